// Communication ports: connect(), the Port object, replies, send(), reconnect and stats.
//
// One Port owns one connection at a time (a "session": one NativePort). Native code hands
// over batches on the JS thread; each message goes to a bounded queue and from there to the
// port's single consumer (an async iterator or serve()). Replies are sized and checked here,
// before any native call; their kernel outcomes, and those of send(), come back in later
// batches by token.
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

import type {
  NativeBatch,
  NativeBinding,
  NativeConnectOptions,
  NativePort,
  NativeStopReason,
} from './binding.js';
import {
  AccessDeniedError,
  BufferTooSmallError,
  ClosedError,
  ConnectionLimitError,
  DisconnectedError,
  type DisconnectReason,
  FltportError,
  InvalidStateError,
  LateReplyError,
  MessageTooLargeError,
  NotFoundError,
  PortNotFoundError,
  ProtocolError,
  SimulatorUnavailableError,
  abortErrorFrom,
  describeHresult,
  formatHex,
} from './errors.js';
import {
  MessageQueue,
  PortMessage,
  REPLY_HEADER_SIZE,
  type ReplySink,
  codecFailure,
  portSlot,
  queueIterator,
} from './message-stream.js';
import { resolveBinding } from './native.js';
import { type OneShot, OneShots } from './one-shot.js';
import { type ServeHandler, type ServeOptions, runServe } from './serve.js';
import {
  type Decoder,
  type Encoder,
  boolOption,
  bytesOf,
  checkOptions,
  decoderOption,
  describe,
  encoderOption,
  fail,
  fixedSizeOf,
  functionOption,
  intOption,
  msOption,
  signalOption,
  stringOption,
  throwIfAborted,
} from './validate.js';

// ---------------------------------------------------------------------------------------
// Diagnostics

/**
 * node:diagnostics_channel channels fltport publishes on. Publishing costs nothing while
 * nobody subscribes. Payload shapes are documented in docs/api.md.
 */
export const channels = {
  /** { port, portName, message } for every message received. */
  message: diagnosticsChannel.channel('fltport:message'),
  /** { port, portName, messageId, outcome: 'replied' | 'late' | 'failed', bytes, error? } per reply outcome. */
  reply: diagnosticsChannel.channel('fltport:reply'),
  /** { port, portName, connection, reason, error } when the driver ends a connection. */
  disconnect: diagnosticsChannel.channel('fltport:disconnect'),
  /** { port, portName, attempt, delay, outcome: 'connected' | 'failed' | 'gave-up', connection?, error? }. */
  reconnect: diagnosticsChannel.channel('fltport:reconnect'),
  /** { port, portName, error } for a receive that yielded no message (e.g. MessageTooLargeError). */
  fault: diagnosticsChannel.channel('fltport:fault'),
} as const;

// ---------------------------------------------------------------------------------------
// Options and results

export interface ReconnectOptions {
  /** Delay before the first attempt, ms. Default 100. */
  initialDelay?: number;
  /** Upper bound of the delay between attempts, ms. Default 30 000. */
  maxDelay?: number;
  /** Attempts before giving up (then the iterator throws DisconnectedError). Default Infinity. */
  maxAttempts?: number;
  /** Each delay is the previous one times this. Default 2. */
  factor?: number;
}

interface ConnectOptionsBase<M, R> {
  /** Decodes each message's payload into `message.body`. Without it, `body` is the bytes. */
  message?: Decoder<M>;
  /** Encodes the value passed to `message.reply()`. Without it, replies are bytes. */
  reply?: Encoder<R>;
  /** Pending FilterGetMessage calls (the kernel's credit), 1..1024. Default 16. */
  concurrency?: number;
  /** Largest message payload accepted, bytes (FILTER_MESSAGE_HEADER not counted). Default 65 536. */
  maxMessageSize?: number;
  /** Delivered-but-unconsumed messages before receives stop being re-armed. Default 64. */
  highWaterMark?: number;
  /** Cancels the connect (and `load`); not the port's later life. */
  signal?: AbortSignal;
  /** Reconnect with exponential backoff when the driver disconnects. Off by default. */
  reconnect?: boolean | ReconnectOptions;
  /** fltsim only: the simulator's runtime directory. Default: $FLTSIM_RUNTIME_DIR, $XDG_RUNTIME_DIR/fltsim, /tmp/fltsim-<uid>. */
  simRuntimeDir?: string;
  /** Connect-or-load: when the port does not exist, FilterLoad this filter (service name) and connect again. */
  load?: string;
  /** Called for a receive that produced no message (a MessageTooLargeError, ...). Default: one process warning. */
  onFault?: (error: FltportError) => void;
  /** The native binding; tests inject a fake. Default: the fltport addon. */
  binding?: NativeBinding;
}

/** The connection context (ConnectNotify's ConnectionContext): bytes, or a value with its codec. */
export type ContextOptions<C> =
  | { context?: Uint8Array; contextCodec?: undefined }
  | { context: C; contextCodec: Encoder<C> };

export type ConnectOptions<M = Uint8Array, R = Uint8Array, C = never> = ConnectOptionsBase<M, R> & ContextOptions<C>;

export interface MessagesOptions {
  /** Ends the iteration with an AbortError. */
  signal?: AbortSignal;
}

interface SendOptionsBase {
  /** Bytes the driver may write back (FilterSendMessage's output buffer). Default: the replyCodec's fixed size, else 0. */
  replyCapacity?: number;
  /**
   * Stops waiting (rejects with AbortError). FilterSendMessage itself cannot be cancelled:
   * the driver's MessageNotify still runs to completion on its worker thread.
   */
  signal?: AbortSignal;
}

export interface SendOptions<I = never, O = never> extends SendOptionsBase {
  codec?: Encoder<I>;
  replyCodec?: Decoder<O>;
}

export interface PortStats {
  /** Messages received from the driver. */
  received: number;
  /** Replies the kernel accepted. */
  replied: number;
  /** Replies that arrived after the driver's sender gave up (0x801F0020). */
  lateReplies: number;
  /** Replies that failed for another reason (disconnect, overflow, ...). */
  replyErrors: number;
  /** serve() handlers that missed their deadline. */
  timeouts: number;
  /** serve() handlers that threw (or returned something unusable). */
  handlerErrors: number;
  /** Messages handed to the application that expect a reply and have not been replied to. */
  inFlight: number;
  /** Messages received but not yet handed to the application. */
  queued: number;
  /** Payload bytes received (headers not counted). */
  bytesReceived: number;
  /** Payload bytes of accepted replies (headers not counted). */
  bytesReplied: number;
  /** Receives that produced no message (oversized messages, malformed completions). */
  faults: number;
  /** send() calls that completed / failed. */
  sent: number;
  sendErrors: number;
  /** Successful reconnects. */
  reconnects: number;
}

export type PortState = 'open' | 'reconnecting' | 'disconnected' | 'closing' | 'closed';

/** What `port.closed` resolves with. */
export interface PortClosedInfo {
  reason: 'closed' | DisconnectReason;
  /** Why the driver side ended, when it did. */
  error?: DisconnectedError;
}

// ---------------------------------------------------------------------------------------
// Validation

const CONNECT_KEYS = [
  'context',
  'contextCodec',
  'message',
  'reply',
  'concurrency',
  'maxMessageSize',
  'highWaterMark',
  'signal',
  'reconnect',
  'simRuntimeDir',
  'load',
  'onFault',
  'binding',
] as const;

/** The largest context FilterConnectCommunicationPort accepts: fltlib refuses sizes >= 0xFFE8
 *  (FLT_PORT_CONTEXT_MAX, the EA that carries it) with STATUS_INTEGER_OVERFLOW (spec §2.1). */
export const MAX_CONTEXT_SIZE = 0xffe7;
/** Largest maxMessageSize accepted: fltsim's frame limit with room for its headers. */
export const MAX_MESSAGE_SIZE = 8 * 1024 * 1024;
const MAX_NAME_CHARS = 0x7fff;

/** Checks a port name the way FilterConnectCommunicationPort needs it: full object-manager name. */
export function validatePortName(where: string, name: unknown): string {
  if (typeof name !== 'string') fail(where, 'portName', `must be a string such as "\\\\ScannerPort", got ${describe(name)}`);
  if (!name.startsWith('\\')) {
    fail(
      where,
      'portName',
      `${JSON.stringify(name)} must be the full object-manager name with its leading backslash, e.g. ${JSON.stringify(`\\${name}`)}. ` +
        'FilterConnectCommunicationPort does not add it: without it the lookup fails with 0x80070002 (ERROR_FILE_NOT_FOUND) ' +
        'or a path-syntax error, so fltport refuses rather than guess',
    );
  }
  if (name.length < 2 || name.endsWith('\\') || name.includes('\\\\')) {
    fail(where, 'portName', `${JSON.stringify(name)} is not a valid object name (empty path component)`);
  }
  if (name.includes('\0')) fail(where, 'portName', 'must not contain NUL characters');
  if (name.length > MAX_NAME_CHARS) fail(where, 'portName', `is ${name.length} characters; object names hold at most ${MAX_NAME_CHARS}`);
  return name;
}

interface ResolvedReconnect {
  initialDelay: number;
  maxDelay: number;
  maxAttempts: number;
  factor: number;
}

function reconnectOption(where: string, value: unknown): ResolvedReconnect | undefined {
  if (value === undefined || value === false) return undefined;
  const r = checkOptions(`${where} reconnect`, value === true ? {} : value, ['initialDelay', 'maxDelay', 'maxAttempts', 'factor']);
  const initialDelay = msOption(where, 'reconnect.initialDelay', r['initialDelay'], { min: 0, default: 100 });
  const maxDelay = msOption(where, 'reconnect.maxDelay', r['maxDelay'], { min: 0, default: Math.max(30_000, initialDelay) });
  if (maxDelay < initialDelay) fail(where, 'reconnect.maxDelay', `(${maxDelay}) must be >= reconnect.initialDelay (${initialDelay})`);
  const factorRaw = r['factor'];
  if (factorRaw !== undefined && (typeof factorRaw !== 'number' || !Number.isFinite(factorRaw) || factorRaw < 1)) {
    fail(where, 'reconnect.factor', `must be a finite number >= 1, got ${describe(factorRaw)}`);
  }
  const maxAttemptsRaw = r['maxAttempts'];
  let maxAttempts = Number.POSITIVE_INFINITY;
  if (maxAttemptsRaw !== undefined && maxAttemptsRaw !== Number.POSITIVE_INFINITY) {
    maxAttempts = intOption(where, 'reconnect.maxAttempts', maxAttemptsRaw, { min: 1, max: Number.MAX_SAFE_INTEGER, default: 1 });
  }
  return { initialDelay, maxDelay, maxAttempts, factor: (factorRaw as number | undefined) ?? 2 };
}

/** The delay before reconnect attempt `attempt` (1-based). */
export function backoffDelay(r: ReconnectOptions & ResolvedReconnect, attempt: number): number {
  return Math.min(r.maxDelay, r.initialDelay * r.factor ** (attempt - 1));
}

/** Waits for `promise` unless `signal` fires first; a result that arrives too late goes to `late`. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string, late?: (value: T) => void): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.then(late, () => {});
    return Promise.reject(abortErrorFrom(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      reject(abortErrorFrom(signal, what));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) late?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!aborted) reject(error);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------
// Sessions

/** One connection (one NativePort). A reconnect creates a new one. */
class Session {
  /** 1 for the first connection, +1 per reconnect; assigned once connected (0 while connecting),
   *  so failed attempts do not count. Native delivers nothing before connect() resolves. */
  id = 0;
  native: NativePort | undefined;
  stopped = false;
  /** Reply-expecting messages of this session handed out and not yet replied. */
  unanswered = 0;
  /** consumed() calls made before the native connect resolved. */
  pendingConsumed = 0;
  readonly replies = new Map<number, PendingReply>();

  consumed(): void {
    if (this.stopped) return;
    if (this.native === undefined) this.pendingConsumed += 1;
    else this.native.consumed(1);
  }
}

interface PendingReply {
  resolve(): void;
  reject(error: unknown): void;
  messageId: bigint;
  size: number;
}

const kConnect = Symbol('fltport.connect');

interface PortInit<M, R> {
  name: string;
  binding: NativeBinding;
  native: NativeConnectOptions;
  decoder: Decoder<M> | undefined;
  encoder: Encoder<R> | undefined;
  reconnect: ResolvedReconnect | undefined;
  load: string | undefined;
  onFault: ((error: FltportError) => void) | undefined;
}

/**
 * A connection to a minifilter's communication port. Iterate it for messages, or serve()
 * them; send() messages to the driver; close() (or `await using`) when done.
 */
export class Port<M = Uint8Array, R = Uint8Array> implements AsyncIterable<PortMessage<M, R>>, AsyncDisposable {
  /** The port name, as passed to connect(). */
  readonly name: string;

  readonly #binding: NativeBinding;
  readonly #nativeOptions: NativeConnectOptions;
  readonly #decoder: Decoder<M> | undefined;
  readonly #encoder: Encoder<R> | undefined;
  readonly #reconnect: ResolvedReconnect | undefined;
  readonly #load: string | undefined;
  readonly #onFault: ((error: FltportError) => void) | undefined;

  #state: PortState = 'open';
  #session: Session;
  /** Successful connections so far (failed reconnect attempts do not count). */
  #connections = 0;
  #nextToken = 1;
  #consumer: string | undefined;
  #faultWarned = false;
  #refed = true;
  #closing: Promise<void> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectAbort: AbortController | undefined;
  /** send() calls waiting for their outcome; tokens are unique across the port's connections. */
  readonly #sends: OneShots<OneShot>;
  readonly #queue: MessageQueue<PortMessage<M, R>>;
  readonly #closed: Promise<PortClosedInfo>;
  #resolveClosed!: (info: PortClosedInfo) => void;
  readonly #stats: Omit<PortStats, 'queued'> = {
    received: 0,
    replied: 0,
    lateReplies: 0,
    replyErrors: 0,
    timeouts: 0,
    handlerErrors: 0,
    inFlight: 0,
    bytesReceived: 0,
    bytesReplied: 0,
    faults: 0,
    sent: 0,
    sendErrors: 0,
    reconnects: 0,
  };
  readonly #sink: ReplySink = {
    sendReply: (message, payload, status) => this.#sendReply(message as PortMessage<M, R>, payload, status),
    settled: (message) => this.#settled(message as PortMessage<M, R>),
  };

  private constructor(init: PortInit<M, R>) {
    this.name = init.name;
    this.#binding = init.binding;
    this.#nativeOptions = init.native;
    this.#decoder = init.decoder;
    this.#encoder = init.encoder;
    this.#reconnect = init.reconnect;
    this.#load = init.load;
    this.#onFault = init.onFault;
    this.#session = new Session();
    this.#sends = new OneShots(`port ${init.name}: send`);
    this.#queue = new MessageQueue((message) => this.#handedOut(message));
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** @internal connect()'s body: needs the private constructor and session machinery. */
  static async [kConnect]<M, R>(init: PortInit<M, R>, signal: AbortSignal | undefined): Promise<Port<M, R>> {
    const port = new Port<M, R>(init);
    await port.#connectWithLoad(signal);
    return port;
  }

  /** 'open', 'reconnecting', 'disconnected' (driver side ended, no reconnect), 'closing', 'closed'. */
  get state(): PortState {
    return this.#state;
  }

  /** Number of the current connection: 1 for the first, +1 per reconnect. */
  get connection(): number {
    return this.#session.id;
  }

  /** Resolves when the port can no longer deliver messages: close(), or a disconnect without reconnect. */
  get closed(): Promise<PortClosedInfo> {
    return this.#closed;
  }

  /** Counters since connect (a fresh object each call). */
  stats(): PortStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  // ---- receiving ----

  /**
   * The port's messages, in arrival order. One consumer at a time: a second iterator (or
   * serve()) while one is active throws FLTPORT_INVALID_STATE; fan out in your own code.
   * Ends (done) on close(); throws DisconnectedError when the driver disconnects and
   * `reconnect` is off; with `reconnect` it continues across connections.
   */
  messages(options?: MessagesOptions): AsyncIterableIterator<PortMessage<M, R>> & AsyncDisposable {
    const opts = checkOptions('port.messages', options, ['signal']);
    const signal = signalOption('port.messages', opts['signal']);
    const release = this.#acquireConsumer('an async iterator');
    return queueIterator(this.#queue, release, signal);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<PortMessage<M, R>> {
    return this.messages();
  }

  /**
   * Runs `handler` for every message (up to `concurrency` at once) and replies with its
   * result; answers with `defaultReply` when it throws or misses `timeout`, so the kernel is
   * never left waiting for nothing. Resolves when the port closes or `signal` aborts (after
   * in-flight handlers settled); rejects with DisconnectedError when the driver disconnects
   * and `reconnect` is off.
   */
  serve(handler: ServeHandler<M, R>, options?: ServeOptions<R>): Promise<void> {
    let release: () => void;
    try {
      release = this.#acquireConsumer('serve()');
    } catch (error) {
      return Promise.reject(error);
    }
    return runServe<M, R>(
      {
        take: (signal) => this.#queue.take(signal),
        release,
        defaultConcurrency: this.#nativeOptions.concurrency,
        countTimeout: () => {
          this.#stats.timeouts += 1;
        },
        countHandlerError: () => {
          this.#stats.handlerErrors += 1;
        },
        hasReplyCodec: this.#encoder !== undefined,
        isClosing: () => this.#state === 'closing' || this.#state === 'closed',
      },
      handler,
      options,
    );
  }

  #acquireConsumer(what: string): () => void {
    if (this.#consumer !== undefined) {
      throw new InvalidStateError(
        `port ${this.name} already has a consumer (${this.#consumer}); each message is delivered once, ` +
          'so use one iterator or serve() at a time and fan out in your own code',
      );
    }
    this.#consumer = what;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#consumer = undefined;
      }
    };
  }

  /** The session of a message this port queued; undefined for one it never queued. */
  #sessionOf(message: PortMessage<M, R>): Session | undefined {
    return portSlot.get(message as PortMessage<unknown, unknown>) as Session | undefined;
  }

  #handedOut(message: PortMessage<M, R>): void {
    const session = this.#sessionOf(message);
    if (session === undefined) return;
    // Flow control: this is what lets native re-arm a receive (the kernel's credit).
    session.consumed();
    if (message.expectsReply) {
      if (session.stopped) {
        message.markUnanswerable();
      } else {
        session.unanswered += 1;
        this.#stats.inFlight += 1;
      }
    }
  }

  // ---- native callbacks (JS thread) ----

  #onBatch(session: Session, batch: NativeBatch): void {
    const receivedAt = performance.now();
    for (let i = 0; i < batch.messageCount; i++) {
      const replyLength = batch.replyLengths[i] ?? 0;
      const offset = batch.offsets[i] ?? 0;
      const length = batch.lengths[i] ?? 0;
      const id = batch.ids[i] ?? 0n;
      if ((replyLength !== 0 && replyLength < REPLY_HEADER_SIZE) || offset + length > batch.buffer.byteLength) {
        // Native counted it as delivered: give the credit back even though nobody sees it.
        session.consumed();
        this.#fault(
          new ProtocolError(
            `message ${id}: malformed delivery (ReplyLength ${replyLength}, payload ${offset}+${length} of a ${batch.buffer.byteLength}-byte batch)`,
          ),
        );
        continue;
      }
      const message = new PortMessage<M, R>({
        id,
        replyLength,
        bytes: new Uint8Array(batch.buffer, offset, length),
        receivedAt,
        connection: session.id,
        decoder: this.#decoder,
        encoder: this.#encoder,
        sink: this.#sink,
      });
      this.#stats.received += 1;
      this.#stats.bytesReceived += length;
      if (channels.message.hasSubscribers) channels.message.publish({ port: this, portName: this.name, message });
      if (this.#queue.ended) {
        session.consumed();
        continue;
      }
      portSlot.set(message as PortMessage<unknown, unknown>, session);
      this.#queue.push(message);
    }
    const tokens = batch.replyTokens;
    for (let i = 0; i < tokens.length; i++) {
      this.#replyOutcome(session, tokens[i] ?? 0, batch.replyErrors[i] ?? null);
    }
    this.#sends.settle(batch);
    for (const fault of batch.faults) this.#fault(fault);
  }

  #replyOutcome(session: Session, token: number, error: Error | null): void {
    const pending = session.replies.get(token);
    if (pending === undefined) {
      // Already settled when the session ended: not news.
      if (session.stopped) return;
      this.#fault(new ProtocolError(`reply outcome for unknown token ${token} on connection ${session.id}`));
      return;
    }
    session.replies.delete(token);
    const base = { port: this, portName: this.name, messageId: pending.messageId, bytes: pending.size };
    if (error === null) {
      this.#stats.replied += 1;
      this.#stats.bytesReplied += pending.size;
      if (channels.reply.hasSubscribers) channels.reply.publish({ ...base, outcome: 'replied' });
      pending.resolve();
      return;
    }
    if (error instanceof FltportError && error.code === 'FLTPORT_NO_WAITER') {
      this.#stats.lateReplies += 1;
      const late = new LateReplyError(
        `message ${pending.messageId}: the reply reached the kernel after the driver stopped waiting ` +
          `(${describeHresult(error.hresult ?? 0x801f0020)}): its FltSendMessage timeout expired and it already ` +
          'returned STATUS_TIMEOUT. The connection is fine; answer faster or ask the driver author for a longer timeout.',
        { ...error.details(), messageId: pending.messageId, cause: error },
      );
      if (channels.reply.hasSubscribers) channels.reply.publish({ ...base, outcome: 'late', error: late });
      pending.reject(late);
      return;
    }
    this.#stats.replyErrors += 1;
    if (channels.reply.hasSubscribers) channels.reply.publish({ ...base, outcome: 'failed', error });
    pending.reject(error);
  }

  #fault(error: Error): void {
    this.#stats.faults += 1;
    let err: FltportError =
      error instanceof FltportError ? error : new ProtocolError(`receive fault: ${error.message}`, { cause: error });
    if (err instanceof BufferTooSmallError || err.code === 'FLTPORT_MESSAGE_TOO_LARGE') {
      const required = err instanceof BufferTooSmallError ? err.requiredSize : undefined;
      const size = required === undefined ? undefined : Math.max(0, required - REPLY_HEADER_SIZE);
      const max = this.#nativeOptions.maxMessageSize - REPLY_HEADER_SIZE;
      err = new MessageTooLargeError(
        `port ${this.name}: the driver sent a message of ${size === undefined ? 'unknown size' : `${size} bytes`}, ` +
          `more than maxMessageSize (${max}). The kernel keeps it with its sender, whose FltSendMessage waits until ` +
          'its timeout; raise maxMessageSize if the driver really sends messages this large.',
        { ...err.details(), size, maxMessageSize: max, cause: err },
      );
    }
    if (channels.fault.hasSubscribers) channels.fault.publish({ port: this, portName: this.name, error: err });
    if (this.#onFault !== undefined) {
      try {
        this.#onFault(err);
      } catch (thrown) {
        process.emitWarning(`fltport: onFault threw: ${(thrown as Error)?.message ?? String(thrown)}`, 'FltportWarning');
      }
    } else if (!this.#faultWarned) {
      // Loud once, then counted in stats().faults: a flood of warnings would bury the cause.
      this.#faultWarned = true;
      process.emitWarning(`${err.message} (further faults are counted in stats().faults; pass onFault to handle them)`, {
        type: 'FltportWarning',
        code: err.code,
      });
    }
  }

  #onStopped(session: Session, reason: NativeStopReason, error: Error | null): void {
    if (session.stopped) return;
    session.stopped = true;
    const closing = this.#state === 'closing' || this.#state === 'closed';
    const disconnect = closing
      ? undefined
      : new DisconnectedError(
          `port ${this.name}: connection ${session.id} ended: ` +
            (reason === 'failed'
              ? `the session failed${error ? ` (${error.message})` : ''}`
              : `the driver closed it or unloaded${error ? ` (${error.message})` : ''}`),
          {
            ...(error instanceof FltportError ? error.details() : {}),
            reason: reason === 'failed' ? 'failed' : 'disconnected',
            cause: error ?? undefined,
          },
        );
    // Messages of this session can no longer be answered. Every reply handed to native gets an
    // outcome in a batch: the backend answers those it took before its stop, and one it
    // refuses (made after the stop) is answered by the addon at once (0x80070006).
    this.#stats.inFlight -= session.unanswered;
    session.unanswered = 0;
    if (disconnect === undefined) return; // close() settles whatever is left.
    const native = session.native;
    const settleLeftovers = (): void => this.#failSession(session, () => disconnect);
    // The handle is dead but must still be closed (spec §8.3 item 7); not from inside this
    // callback. Native owes nothing once close() resolved; should a reply still be waiting
    // then (a native bug), it is settled rather than left hanging.
    if (native === undefined) settleLeftovers();
    else void Promise.resolve().then(() => native.close().then(settleLeftovers, settleLeftovers));
    if (session !== this.#session) return;

    if (channels.disconnect.hasSubscribers) {
      channels.disconnect.publish({
        port: this,
        portName: this.name,
        connection: session.id,
        reason: disconnect.reason,
        error: disconnect,
      });
    }
    if (this.#reconnect !== undefined) {
      this.#state = 'reconnecting';
      this.#scheduleReconnect(1, disconnect);
    } else {
      this.#becomeDisconnected(disconnect);
    }
  }

  /** Rejects everything the session still owed and stops counting its messages in flight. */
  #failSession(session: Session, errorFor: () => Error): void {
    session.stopped = true;
    for (const pending of session.replies.values()) {
      this.#stats.replyErrors += 1;
      pending.reject(errorFor());
    }
    session.replies.clear();
    this.#stats.inFlight -= session.unanswered;
    session.unanswered = 0;
  }

  #becomeDisconnected(error: DisconnectedError): void {
    this.#state = 'disconnected';
    this.#queue.end({ kind: 'error', error });
    this.#resolveClosed({ reason: error.reason, error });
  }

  // ---- connecting ----

  async #connectSession(signal: AbortSignal | undefined): Promise<Session> {
    const session = new Session();
    const connecting = this.#binding.connect(
      this.#nativeOptions,
      (batch) => this.#onBatch(session, batch),
      (reason, error) => this.#onStopped(session, reason, error),
    );
    let native: NativePort;
    try {
      native = await raceAbort(connecting, signal, `connect(${this.name})`, (late) => {
        void late.close().catch(() => {});
      });
    } catch (error) {
      session.stopped = true;
      throw error;
    }
    session.native = native;
    this.#connections += 1;
    session.id = this.#connections;
    // Current from here on, so that a stop arriving right after the connect is not ignored.
    this.#session = session;
    if (session.pendingConsumed > 0) {
      native.consumed(session.pendingConsumed);
      session.pendingConsumed = 0;
    }
    if (!this.#refed) native.unref();
    return session;
  }

  async #connectWithLoad(signal: AbortSignal | undefined): Promise<Session> {
    try {
      return await this.#connectSession(signal);
    } catch (error) {
      if (this.#load === undefined || !(error instanceof NotFoundError)) throw this.#explain(error);
    }
    const ctx = { simRuntimeDir: this.#nativeOptions.simRuntimeDir };
    try {
      await raceAbort(this.#binding.loadFilter(ctx, this.#load), signal, `loading filter ${this.#load}`);
    } catch (error) {
      // ERROR_SERVICE_ALREADY_RUNNING / ALREADY_EXISTS: loaded already, so the port name is what is wrong.
      if (!(error instanceof FltportError && error.code === 'FLTPORT_ALREADY_EXISTS')) throw error;
    }
    try {
      return await this.#connectSession(signal);
    } catch (error) {
      throw this.#explain(error);
    }
  }

  /** Adds what the numbers mean for a connect, keeping the original as cause. */
  #explain(error: unknown): unknown {
    if (!(error instanceof FltportError) || error.syscall !== 'FilterConnectCommunicationPort') {
      if (error instanceof SimulatorUnavailableError) {
        return new SimulatorUnavailableError(
          `connect(${this.name}): fltsim-host is not reachable (${error.message}). Start it with \`fltport sim\` ` +
            '(or `npm start`), or point simRuntimeDir / $FLTSIM_RUNTIME_DIR at its runtime directory.',
          { ...error.details(), cause: error },
        );
      }
      return error;
    }
    const numbers = describeHresult(error.hresult ?? 0);
    const details = { ...error.details(), cause: error };
    switch (error.code) {
      case 'FLTPORT_NOT_FOUND':
        return new PortNotFoundError(
          `connect(${this.name}): no communication port of that name (${numbers}). The driver that creates it is ` +
            'not loaded, or the name differs (it includes the leading backslash; case does not matter)' +
            (this.#load === undefined ? '. Pass { load: "<filter name>" } to load the filter first.' : '.'),
          { ...details, portName: this.name },
        );
      case 'FLTPORT_ACCESS_DENIED':
        return new AccessDeniedError(
          `connect(${this.name}): access denied (${numbers}). A port built with FltBuildDefaultSecurityDescriptor ` +
            'admits only SYSTEM and elevated Administrators: run elevated, or have the driver grant your account ' +
            'FLT_PORT_CONNECT (never a NULL DACL).',
          details,
        );
      case 'FLTPORT_CONNECTION_LIMIT':
        return new ConnectionLimitError(
          `connect(${this.name}): the port's MaxConnections is reached (${numbers}): another client holds the slot ` +
            '(another instance of this service, or a child process that inherited its handle).',
          details,
        );
      default:
        return error;
    }
  }

  #scheduleReconnect(attempt: number, lastError: FltportError): void {
    const r = this.#reconnect as ResolvedReconnect;
    if (attempt > r.maxAttempts) {
      const error = new DisconnectedError(
        `port ${this.name}: gave up reconnecting after ${r.maxAttempts} attempt${r.maxAttempts === 1 ? '' : 's'}: ${lastError.message}`,
        { ...lastError.details(), reason: lastError instanceof DisconnectedError ? lastError.reason : 'failed', cause: lastError },
      );
      if (channels.reconnect.hasSubscribers) {
        channels.reconnect.publish({ port: this, portName: this.name, attempt: attempt - 1, delay: 0, outcome: 'gave-up', error });
      }
      this.#becomeDisconnected(error);
      return;
    }
    const delay = backoffDelay(r, attempt);
    const timer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#attemptReconnect(attempt, delay);
    }, delay);
    if (!this.#refed) timer.unref();
    this.#reconnectTimer = timer;
  }

  async #attemptReconnect(attempt: number, delay: number): Promise<void> {
    if (this.#state !== 'reconnecting') return;
    const abort = new AbortController();
    this.#reconnectAbort = abort;
    let session: Session;
    try {
      session = await this.#connectWithLoad(abort.signal);
    } catch (error) {
      if (this.#state !== 'reconnecting') return;
      const err =
        error instanceof FltportError ? error : new ProtocolError(`reconnect failed: ${String(error)}`, { cause: error });
      if (channels.reconnect.hasSubscribers) {
        channels.reconnect.publish({ port: this, portName: this.name, attempt, delay, outcome: 'failed', error: err });
      }
      this.#scheduleReconnect(attempt + 1, err);
      return;
    } finally {
      if (this.#reconnectAbort === abort) this.#reconnectAbort = undefined;
    }
    if (this.#state !== 'reconnecting') {
      void session.native?.close().catch(() => {});
      return;
    }
    this.#state = 'open';
    this.#stats.reconnects += 1;
    if (channels.reconnect.hasSubscribers) {
      channels.reconnect.publish({ port: this, portName: this.name, attempt, delay, outcome: 'connected', connection: session.id });
    }
  }

  // ---- replying ----

  #settled(message: PortMessage<M, R>): void {
    const session = this.#sessionOf(message);
    if (session === undefined || session.stopped || !message.expectsReply) return;
    if (session.unanswered > 0) {
      session.unanswered -= 1;
      this.#stats.inFlight -= 1;
    }
  }

  #sendReply(message: PortMessage<M, R>, payload: Uint8Array, status: number): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(new ClosedError(`message ${message.id}: port ${this.name} is closed; the reply was not sent`));
    }
    const session = this.#sessionOf(message);
    if (session === undefined || session.stopped || session.native === undefined) {
      return Promise.reject(
        new DisconnectedError(
          `message ${message.id}: its connection (${message.connection}) has ended, so the kernel no longer has a waiter for it; the reply was not sent`,
        ),
      );
    }
    const native = session.native;
    const token = this.#nextToken++;
    return new Promise<void>((resolve, reject) => {
      session.replies.set(token, { resolve, reject, messageId: message.id, size: payload.byteLength });
      try {
        native.reply(token, message.id, status, payload.byteLength === 0 ? null : payload);
      } catch (error) {
        session.replies.delete(token);
        this.#stats.replyErrors += 1;
        reject(error);
      }
    });
  }

  // ---- sending ----

  /**
   * FilterSendMessage: the driver's MessageNotify runs while the event loop goes on (no
   * thread waits for it) and the promise resolves with its output, decoded with
   * `replyCodec` when given.
   */
  send(data?: Uint8Array | null, options?: SendOptions & { codec?: undefined; replyCodec?: undefined }): Promise<Uint8Array>;
  send<I>(value: I, options: SendOptions<I> & { codec: Encoder<I>; replyCodec?: undefined }): Promise<Uint8Array>;
  send<O>(data: Uint8Array | null | undefined, options: SendOptions<never, O> & { codec?: undefined; replyCodec: Decoder<O> }): Promise<O>;
  send<I, O>(value: I, options: SendOptions<I, O> & { codec: Encoder<I>; replyCodec: Decoder<O> }): Promise<O>;
  async send(value?: unknown, options?: SendOptions<unknown, unknown>): Promise<unknown> {
    const opts = checkOptions('port.send', options, ['codec', 'replyCodec', 'replyCapacity', 'signal']);
    const codec = encoderOption<unknown>('port.send', 'codec', opts['codec']);
    const replyCodec = decoderOption<unknown>('port.send', 'replyCodec', opts['replyCodec']);
    const signal = signalOption('port.send', opts['signal']);
    const fixed = fixedSizeOf(replyCodec);
    if (replyCodec !== undefined && fixed === undefined && opts['replyCapacity'] === undefined) {
      fail('port.send', 'replyCapacity', 'is required when replyCodec has no fixed size');
    }
    const replyCapacity = intOption('port.send', 'replyCapacity', opts['replyCapacity'], {
      min: 0,
      max: MAX_MESSAGE_SIZE,
      default: fixed ?? 0,
    });
    let input: Uint8Array | null;
    if (codec !== undefined) {
      try {
        input = codec.encode(value);
      } catch (error) {
        throw codecFailure(error, `port.send: the codec could not encode the message`);
      }
      if (!(input instanceof Uint8Array)) fail('port.send', 'codec.encode', `must return a Uint8Array, got ${describe(input)}`);
    } else {
      input = value === undefined || value === null ? null : bytesOf('port.send', 'data', value);
    }
    throwIfAborted(signal, 'port.send');
    const native = this.#requireOpen('send');
    // Settled by the batch that carries its outcome (#onBatch), or by close().
    const sending = new Promise<Uint8Array>((resolve, reject) => {
      this.#sends.start({ resolve, reject }, (token) => native.send(token, input, replyCapacity));
    });
    let out: Uint8Array;
    try {
      out = await raceAbort(sending, signal, 'port.send');
    } catch (error) {
      this.#stats.sendErrors += 1;
      throw error;
    }
    this.#stats.sent += 1;
    if (replyCodec === undefined) return out;
    try {
      return replyCodec.decode(out);
    } catch (error) {
      throw codecFailure(error, `port.send: the reply codec could not decode ${out.byteLength} bytes`);
    }
  }

  #requireOpen(what: string): NativePort {
    switch (this.#state) {
      case 'closing':
      case 'closed':
        throw new ClosedError(`port.${what}: port ${this.name} is closed`);
      case 'reconnecting':
        throw new DisconnectedError(`port.${what}: port ${this.name} is disconnected and reconnecting`);
      case 'disconnected':
        throw new DisconnectedError(`port.${what}: port ${this.name} is disconnected`);
      default:
        break;
    }
    const native = this.#session.native;
    if (native === undefined) throw new InvalidStateError(`port.${what}: port ${this.name} is not connected yet`);
    return native;
  }

  // ---- lifetime ----

  /**
   * Cancels pending receives, waits for native to drain them, and releases the connection.
   * Iterators end (done), serve() resolves, pending send()/reply() reject with
   * FLTPORT_CLOSED. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#state = 'closing';
    this.#closing = (async () => {
      if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      this.#reconnectAbort?.abort();
      this.#queue.end({ kind: 'closed' });
      this.#sends.rejectAll(() => new ClosedError(`port.send: port ${this.name} was closed while waiting for the driver`));
      const session = this.#session;
      try {
        await session.native?.close();
      } catch {
        // Closing a connection that already failed may report that failure again; the port is closed either way.
      }
      // Native answers every reply before its stop, so nothing should be left; whatever is
      // (a native bug) is settled rather than left hanging.
      this.#failSession(session, () => new ClosedError(`port ${this.name} was closed before the kernel answered this reply`));
      this.#state = 'closed';
      this.#resolveClosed({ reason: 'closed' });
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Keep the event loop alive while the port is open (the default). */
  ref(): this {
    this.#refed = true;
    this.#session.native?.ref();
    this.#reconnectTimer?.ref();
    return this;
  }

  /** Let the process exit even though the port is open. */
  unref(): this {
    this.#refed = false;
    this.#session.native?.unref();
    this.#reconnectTimer?.unref();
    return this;
  }

  toString(): string {
    return `Port(${this.name}, ${this.#state})`;
  }
}

/**
 * Connects to a minifilter's communication port (FilterConnectCommunicationPort).
 *
 * ```ts
 * await using port = await connect('\\FltportSampleScan', { message: Notification, reply: Verdict });
 * for await (const msg of port) await msg.reply({ allow: true });
 * ```
 */
export async function connect<M = Uint8Array, R = Uint8Array, C = never>(
  portName: string,
  options?: ConnectOptions<M, R, C>,
): Promise<Port<M, R>> {
  const where = 'connect';
  const name = validatePortName(where, portName);
  const opts = checkOptions(where, options, CONNECT_KEYS);
  const signal = signalOption(where, opts['signal']);
  const concurrency = intOption(where, 'concurrency', opts['concurrency'], { min: 1, max: 1024, default: 16 });
  const maxMessageSize = intOption(where, 'maxMessageSize', opts['maxMessageSize'], {
    min: 1,
    max: MAX_MESSAGE_SIZE,
    default: 64 * 1024,
  });
  const highWaterMark = intOption(where, 'highWaterMark', opts['highWaterMark'], { min: 1, max: 65_536, default: 64 });
  const simRuntimeDir = stringOption(where, 'simRuntimeDir', opts['simRuntimeDir'], '');
  const load = opts['load'] === undefined ? undefined : stringOption(where, 'load', opts['load'], '');
  if (load === '') fail(where, 'load', 'must be a filter (service) name, not empty');
  const decoder = decoderOption<M>(where, 'message', opts['message']);
  const encoder = encoderOption<R>(where, 'reply', opts['reply']);
  const reconnect = reconnectOption(where, opts['reconnect']);
  if (opts['reconnect'] !== undefined && typeof opts['reconnect'] !== 'object') boolOption(where, 'reconnect', opts['reconnect'], false);
  const onFault = functionOption<(error: FltportError) => void>(where, 'onFault', opts['onFault']);
  const context = contextBytes(where, opts['context'], opts['contextCodec']);
  const injected = opts['binding'];
  if (injected !== undefined && (injected === null || typeof injected !== 'object')) {
    fail(where, 'binding', `must be a NativeBinding object, got ${describe(injected)}`);
  }
  throwIfAborted(signal, `connect(${name})`);
  const binding = resolveBinding(injected as NativeBinding | undefined);
  // The receive buffer starts small and native grows a slot (up to the maximum) when the
  // kernel reports a larger message (STATUS_BUFFER_TOO_SMALL keeps the message: spec §3.4).
  const maxBuffer = maxMessageSize + REPLY_HEADER_SIZE;
  return Port[kConnect](
    {
      name,
      binding,
      native: {
        name,
        flags: 0,
        context,
        concurrency,
        initialBufferSize: Math.min(maxBuffer, 4096),
        maxMessageSize: maxBuffer,
        highWaterMark,
        simRuntimeDir,
      },
      decoder,
      encoder,
      reconnect,
      load,
      onFault,
    },
    signal,
  );
}

function contextBytes(where: string, context: unknown, contextCodec: unknown): Uint8Array | null {
  let bytes: Uint8Array;
  if (contextCodec !== undefined) {
    const codec = encoderOption<unknown>(where, 'contextCodec', contextCodec) as Encoder<unknown>;
    try {
      bytes = codec.encode(context);
    } catch (error) {
      throw codecFailure(error, `${where}: contextCodec could not encode the context`);
    }
    if (!(bytes instanceof Uint8Array)) fail(where, 'contextCodec.encode', `must return a Uint8Array, got ${describe(bytes)}`);
  } else if (context === undefined || context === null) {
    return null;
  } else {
    bytes = bytesOf(where, 'context', context);
  }
  if (bytes.byteLength > MAX_CONTEXT_SIZE) {
    fail(
      where,
      'context',
      `is ${bytes.byteLength} bytes; FilterConnectCommunicationPort carries at most ${MAX_CONTEXT_SIZE} ` +
        `(${formatHex(MAX_CONTEXT_SIZE)}) in its extended attribute (larger fails with STATUS_INTEGER_OVERFLOW)`,
    );
  }
  // A zero-length context is sent as NULL/0: fltlib rejects a non-NULL pointer with size 0.
  return bytes.byteLength === 0 ? null : bytes;
}
