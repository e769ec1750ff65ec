// Mailslots (spec §10): the server (read) end as an async iterable of messages, and a static
// write for the client end. Reads complete on the native I/O thread and come back in batches,
// like port messages.
//
// Timeouts: `readTimeout` is a property of the mailslot (CreateMailslot/SetMailslotInfo).
// read() surfaces it (FLTPORT_TIMEOUT, ERROR_SEM_TIMEOUT 0x80070079 — also for a 0 timeout,
// where Windows fails at once despite the CreateMailslot docs). The iterator instead waits
// for messages indefinitely: it re-issues the read after a timeout, pausing `pollInterval`
// ms first when readTimeout is 0 so that it never spins.
import type { NativeBatch, NativeBinding, NativeMailslot } from './binding.js';
import {
  BufferTooSmallError,
  ClosedError,
  FltportError,
  MessageTooLargeError,
  ProtocolError,
  TimeoutError,
  abortErrorFrom,
} from './errors.js';
import { resolveBinding } from './native.js';
import { type OneShot, OneShots } from './one-shot.js';
import {
  bytesOf,
  checkOptions,
  describe,
  fail,
  intOption,
  signalOption,
  stringOption,
  throwIfAborted,
} from './validate.js';

/** MAILSLOT_WAIT_FOREVER. */
const WAIT_FOREVER = 0xffffffff;
/** MAILSLOT_NO_MESSAGE. */
const NO_MESSAGE = 0xffffffff;
/** Broadcasts to a domain or `*` carry at most this many bytes (spec §10.1). */
export const MAILSLOT_BROADCAST_LIMIT = 424;
/** First read buffer when maxMessageSize is 0 ("any size"); grown on ERROR_INSUFFICIENT_BUFFER. */
const DEFAULT_READ_BUFFER = 64 * 1024;
/** Largest single message fltport will allocate a read buffer for. */
export const MAX_MAILSLOT_READ = 64 * 1024 * 1024;

export interface MailslotOptions {
  /** Largest message writers may send, bytes; 0 = any size (the default). */
  maxMessageSize?: number;
  /** How long a read waits for a message, ms: Infinity (the default) waits forever, 0 fails at once when empty. */
  readTimeout?: number;
  /** When readTimeout is 0, the iterator's pause between empty reads, ms. Default 50. */
  pollInterval?: number;
  /** Cancels the create. */
  signal?: AbortSignal;
  /** fltsim only: the simulator's runtime directory. */
  simRuntimeDir?: string;
  /** The native binding; tests inject a fake. */
  binding?: NativeBinding;
}

export interface MailslotWriteOptions {
  simRuntimeDir?: string;
  signal?: AbortSignal;
  binding?: NativeBinding;
}

export interface MailslotInfo {
  /** 0 when any size is accepted. */
  maxMessageSize: number;
  /** Size of the oldest waiting message, or null when none waits. */
  nextSize: number | null;
  /** Messages waiting. */
  count: number;
  /** ms; Infinity when reads wait forever. */
  readTimeout: number;
}

export interface MailslotReadOptions {
  signal?: AbortSignal;
}

const INVALID_NAME_CHARS = /[\u0000-\u001f<>:"|?*/]/;

function checkPath(where: string, argument: string, name: string, path: string): void {
  if (path === '' || path.startsWith('\\') || path.endsWith('\\') || path.includes('\\\\')) {
    fail(where, argument, `${JSON.stringify(name)} has an empty path component after \\mailslot\\`);
  }
  if (INVALID_NAME_CHARS.test(path)) {
    fail(where, argument, `${JSON.stringify(name)} contains a character not allowed in mailslot names`);
  }
  if (name.length > 0x7fff) fail(where, argument, `is ${name.length} characters; names hold at most 32767`);
}

/** Validates a name for CreateMailslot: local only, `\\.\mailslot\[path\]name`. */
export function validateMailslotName(where: string, name: unknown): string {
  if (typeof name !== 'string') fail(where, 'name', `must be a string such as "\\\\.\\mailslot\\fltport\\notes", got ${describe(name)}`);
  const m = /^\\\\\.\\mailslot\\(.*)$/i.exec(name);
  if (m === null) {
    fail(
      where,
      'name',
      `${JSON.stringify(name)} is not a local mailslot name: a server end is created as \\\\.\\mailslot\\[path\\]name ` +
        '(mailslots are always local to the creating machine)',
    );
  }
  checkPath(where, 'name', name, m[1] ?? '');
  return name;
}

/** Validates a name for writing: `\\.\mailslot\…`, `\\computer\mailslot\…`, `\\domain\mailslot\…` or `\\*\mailslot\…`. */
export function validateMailslotTarget(where: string, name: unknown): { name: string; broadcast: boolean } {
  if (typeof name !== 'string') fail(where, 'name', `must be a string such as "\\\\.\\mailslot\\fltport\\notes", got ${describe(name)}`);
  const m = /^\\\\([^\\]+)\\mailslot\\(.*)$/i.exec(name);
  if (m === null) {
    fail(where, 'name', `${JSON.stringify(name)} is not a mailslot name (\\\\.\\mailslot\\name, \\\\computer\\mailslot\\name or \\\\*\\mailslot\\name)`);
  }
  checkPath(where, 'name', name, m[2] ?? '');
  return { name, broadcast: m[1] === '*' };
}

function readTimeoutOption(where: string, value: unknown, def: number): number {
  if (value === undefined) return def;
  if (value === Number.POSITIVE_INFINITY) return WAIT_FOREVER;
  return intOption(where, 'readTimeout', value, { min: 0, max: WAIT_FOREVER - 1, default: def });
}

interface PendingRead extends OneShot {
  /** The caller stopped waiting (abort): a message this read returns goes to the stash. */
  abandoned: boolean;
}

const kCreate = Symbol('fltport.mailslot.create');

/** The server end of a mailslot. Iterate it for messages; close() (or `await using`) when done. */
export class Mailslot implements AsyncIterable<Uint8Array>, AsyncDisposable {
  readonly name: string;
  readonly #pollInterval: number;
  #native: NativeMailslot | undefined;
  #readBuffer: number;
  readonly #reads: OneShots<PendingRead>;
  /** Messages read for callers that had stopped waiting; handed to the next read. */
  readonly #stash: Uint8Array[] = [];
  #state: 'open' | 'closing' | 'closed' | 'failed' = 'open';
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;
  readonly #closeWaiters = new Set<() => void>();

  private constructor(name: string, maxMessageSize: number, pollInterval: number) {
    this.name = name;
    this.#pollInterval = pollInterval;
    this.#readBuffer = maxMessageSize > 0 ? maxMessageSize : DEFAULT_READ_BUFFER;
    this.#reads = new OneShots(`mailslot ${name}: read`);
  }

  /** CreateMailslot: the server end. Fails with FLTPORT_ALREADY_EXISTS when the name is taken. */
  static async create(name: string, options?: MailslotOptions): Promise<Mailslot> {
    const where = 'Mailslot.create';
    const checked = validateMailslotName(where, name);
    const opts = checkOptions(where, options, ['maxMessageSize', 'readTimeout', 'pollInterval', 'signal', 'simRuntimeDir', 'binding']);
    const maxMessageSize = intOption(where, 'maxMessageSize', opts['maxMessageSize'], { min: 0, max: MAX_MAILSLOT_READ, default: 0 });
    const readTimeout = readTimeoutOption(where, opts['readTimeout'], WAIT_FOREVER);
    const pollInterval = intOption(where, 'pollInterval', opts['pollInterval'], { min: 1, max: 60_000, default: 50 });
    const signal = signalOption(where, opts['signal']);
    const simRuntimeDir = stringOption(where, 'simRuntimeDir', opts['simRuntimeDir'], '');
    throwIfAborted(signal, `${where}(${checked})`);
    const binding = resolveBinding(opts['binding'] as NativeBinding | undefined);
    return Mailslot[kCreate](binding, { name: checked, maxMessageSize, readTimeout, simRuntimeDir }, pollInterval, signal);
  }

  static async [kCreate](
    binding: NativeBinding,
    native: { name: string; maxMessageSize: number; readTimeout: number; simRuntimeDir: string },
    pollInterval: number,
    signal: AbortSignal | undefined,
  ): Promise<Mailslot> {
    const slot = new Mailslot(native.name, native.maxMessageSize, pollInterval);
    const creating = binding.createMailslot(
      native,
      (batch) => slot.#onBatch(batch),
      (error) => slot.#onStopped(error),
    );
    if (signal === undefined) {
      slot.#native = await creating;
      return slot;
    }
    slot.#native = await new Promise<NativeMailslot>((resolve, reject) => {
      const onAbort = (): void => {
        reject(abortErrorFrom(signal, `Mailslot.create(${native.name})`));
        // The mailslot may still be created: close it, or its name stays taken.
        creating.then((late) => late.close(), () => {});
      };
      signal.addEventListener('abort', onAbort, { once: true });
      creating.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          if (!signal.aborted) resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (!signal.aborted) reject(error);
        },
      );
    });
    return slot;
  }

  /** Writes one message to a mailslot (the client end: CreateFile + WriteFile). */
  static async write(name: string, data: Uint8Array, options?: MailslotWriteOptions): Promise<void> {
    const where = 'Mailslot.write';
    const target = validateMailslotTarget(where, name);
    const bytes = bytesOf(where, 'data', data);
    const opts = checkOptions(where, options, ['simRuntimeDir', 'signal', 'binding']);
    const simRuntimeDir = stringOption(where, 'simRuntimeDir', opts['simRuntimeDir'], '');
    const signal = signalOption(where, opts['signal']);
    if (target.broadcast && bytes.byteLength > MAILSLOT_BROADCAST_LIMIT) {
      fail(where, 'data', `is ${bytes.byteLength} bytes; a broadcast (\\\\*\\mailslot\\…) carries at most ${MAILSLOT_BROADCAST_LIMIT} (ERROR_BAD_NETPATH otherwise)`);
    }
    throwIfAborted(signal, where);
    const binding = resolveBinding(opts['binding'] as NativeBinding | undefined);
    const writing = binding.writeMailslot(target.name, bytes, simRuntimeDir);
    if (signal === undefined) return writing;
    // A write never waits for a reader; abort only stops us waiting for the worker.
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortErrorFrom(signal, where));
      signal.addEventListener('abort', onAbort, { once: true });
      writing.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /**
   * Reads one message. Rejects with TimeoutError (FLTPORT_TIMEOUT) when readTimeout passes
   * with no message, with AbortError on abort (a message that arrives for an aborted read is
   * kept for the next one), with ClosedError once closed.
   */
  read(options?: MailslotReadOptions): Promise<Uint8Array> {
    let signal: AbortSignal | undefined;
    try {
      const opts = checkOptions('mailslot.read', options, ['signal']);
      signal = signalOption('mailslot.read', opts['signal']);
      this.#checkUsable('read');
      throwIfAborted(signal, 'mailslot.read');
    } catch (error) {
      return Promise.reject(error);
    }
    const stashed = this.#stash.shift();
    if (stashed !== undefined) return Promise.resolve(stashed);
    return new Promise<Uint8Array>((resolve, reject) => {
      const entry: PendingRead = {
        resolve: (bytes) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(bytes);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        abandoned: false,
      };
      const onAbort = (): void => {
        entry.abandoned = true;
        reject(abortErrorFrom(signal as AbortSignal, 'mailslot.read'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#issue(entry, this.#readBuffer);
    });
  }

  #issue(entry: PendingRead, size: number): void {
    this.#reads.start(entry, (token) => (this.#native as NativeMailslot).read(token, size));
  }

  /**
   * Every message, waiting indefinitely (read timeouts are retried; see the file comment).
   * Ends (done) on close(); throws if the mailslot fails or `signal` aborts.
   */
  async *messages(options?: MailslotReadOptions): AsyncGenerator<Uint8Array, void, undefined> {
    const opts = checkOptions('mailslot.messages', options, ['signal']);
    const signal = signalOption('mailslot.messages', opts['signal']);
    for (;;) {
      if (this.#state === 'closing' || this.#state === 'closed') return;
      let bytes: Uint8Array;
      try {
        bytes = await this.read(signal === undefined ? undefined : { signal });
      } catch (error) {
        if (error instanceof ClosedError && this.#state !== 'failed') return;
        if (error instanceof TimeoutError) {
          if (this.info().readTimeout === 0) await this.#pause(signal);
          continue;
        }
        throw error;
      }
      yield bytes;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return this.messages();
  }

  /** Waits pollInterval ms, ending early on close (or rejecting on abort). */
  #pause(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#closeWaiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.#closeWaiters.delete(done);
        reject(abortErrorFrom(signal as AbortSignal, 'mailslot.messages'));
      };
      const timer = setTimeout(done, this.#pollInterval);
      this.#closeWaiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** GetMailslotInfo. */
  info(): MailslotInfo {
    this.#checkUsable('info');
    const raw = (this.#native as NativeMailslot).info();
    return {
      maxMessageSize: raw.maxMessageSize,
      nextSize: raw.nextSize === NO_MESSAGE ? null : raw.nextSize,
      count: raw.count,
      readTimeout: raw.readTimeout === WAIT_FOREVER ? Number.POSITIVE_INFINITY : raw.readTimeout,
    };
  }

  /** SetMailslotInfo: ms, Infinity = wait forever, 0 = fail at once when empty. Applies to later reads. */
  setReadTimeout(readTimeout: number): void {
    const value = readTimeoutOption('mailslot.setReadTimeout', readTimeout, WAIT_FOREVER);
    this.#checkUsable('setReadTimeout');
    (this.#native as NativeMailslot).setReadTimeout(value);
  }

  #checkUsable(what: string): void {
    if (this.#state === 'failed') {
      throw new ClosedError(`mailslot.${what}: mailslot ${this.name} failed: ${this.#failure?.message ?? 'unknown cause'}`, {
        cause: this.#failure,
      });
    }
    if (this.#state !== 'open') throw new ClosedError(`mailslot.${what}: mailslot ${this.name} is closed`);
  }

  #onBatch(batch: NativeBatch): void {
    this.#reads.settle(
      batch,
      (entry, bytes) => {
        if (entry.abandoned) this.#stash.push(bytes);
        else entry.resolve(bytes);
      },
      (entry, error) => this.#readFailed(entry, error),
    );
  }

  #readFailed(entry: PendingRead, error: Error): void {
    if (this.#state === 'closing' || this.#state === 'closed') {
      entry.reject(new ClosedError(`mailslot ${this.name} was closed while a read was pending`, { cause: error }));
      return;
    }
    if (error instanceof BufferTooSmallError) {
      // The message stays queued (spec §10.3): read it again with a buffer of its size.
      const required = error.requiredSize ?? this.#nextSizeOrUndefined();
      if (required !== undefined && required > this.#readBuffer && required <= MAX_MAILSLOT_READ) {
        this.#readBuffer = required;
        this.#issue(entry, required);
        return;
      }
      entry.reject(
        new MessageTooLargeError(
          `mailslot ${this.name}: the next message is ${required ?? 'of unknown size'} bytes, more than fltport reads (${MAX_MAILSLOT_READ})`,
          { ...error.details(), size: required, maxMessageSize: MAX_MAILSLOT_READ, cause: error },
        ),
      );
      return;
    }
    if (entry.abandoned) return;
    entry.reject(error);
  }

  #nextSizeOrUndefined(): number | undefined {
    try {
      const next = (this.#native as NativeMailslot).info().nextSize;
      return next === NO_MESSAGE ? undefined : next;
    } catch {
      return undefined;
    }
  }

  #onStopped(error: Error | null): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'failed';
    const failure = error ?? new ProtocolError(`mailslot ${this.name}: the native side stopped without close()`);
    this.#failure = failure;
    this.#reads.rejectAll(
      () =>
        new ClosedError(`mailslot ${this.name} failed: ${failure.message}`, {
          ...(failure instanceof FltportError ? failure.details() : {}),
          cause: failure,
        }),
    );
  }

  /** Cancels pending reads (they reject with FLTPORT_CLOSED) and closes the server end; unread messages are lost. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#state = 'closing';
    for (const wake of this.#closeWaiters) wake();
    this.#closing = (async () => {
      try {
        await this.#native?.close();
      } catch {
        // Closing after a failure may report it again; the mailslot is closed either way.
      }
      this.#reads.rejectAll(() => new ClosedError(`mailslot ${this.name} was closed while a read was pending`));
      this.#stash.length = 0;
      this.#state = 'closed';
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  ref(): this {
    this.#native?.ref();
    return this;
  }

  unref(): this {
    this.#native?.unref();
    return this;
  }
}
