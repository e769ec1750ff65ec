// Messages as the application sees them, and the bounded hand-off between native batches
// and the one consumer (an async iterator or serve()) of a port.
//
// There is no unbounded queue here: native re-arms FilterGetMessage only while fewer than
// highWaterMark delivered messages are unconsumed, so this queue never holds more than
// concurrency + highWaterMark messages. A message counts as consumed when it is handed to
// the consumer (the port calls native consumed(1) right then), which is what re-opens the
// kernel's credit.
import {
  AlreadyRepliedError,
  FltportError,
  InvalidArgumentError,
  NoReplyExpectedError,
  ReplyTooLargeError,
  abortErrorFrom,
  formatHex,
} from './errors.js';
import { type Decoder, type Encoder, checkOptions, describe, encodeWith } from './validate.js';

/** FILTER_REPLY_HEADER: native prepends it; its size is not part of a reply's capacity. */
export const REPLY_HEADER_SIZE = 16;

export interface ReplyOptions {
  /**
   * NTSTATUS for FILTER_REPLY_HEADER.Status; the driver's FltSendMessage returns it verbatim.
   * Default 0 (STATUS_SUCCESS). Accepts the signed or unsigned 32-bit form (0xC0000022 or -1073741790).
   */
  status?: number;
  /**
   * Cut a payload longer than replyCapacity instead of failing with FLTPORT_REPLY_TOO_LARGE.
   * The kernel would otherwise copy the first replyCapacity bytes and make the driver's
   * FltSendMessage return STATUS_BUFFER_OVERFLOW, which most drivers treat as "no verdict".
   */
  truncate?: boolean;
}

/** What a message needs from its port to send a reply. @internal */
export interface ReplySink {
  /** Sends FILTER_REPLY_HEADER{status, id} + payload; settles with the kernel's outcome. */
  sendReply(message: PortMessage<unknown, unknown>, payload: Uint8Array, status: number): Promise<void>;
  /** The message was answered (or can no longer be): stop counting it as in flight. */
  settled(message: PortMessage<unknown, unknown>): void;
}

type ReplyState = 'unanswered' | 'replied';

/**
 * The port's per-message slot (its connection's session), set once the port queues the
 * message. A private field rather than a WeakMap entry in the port: one ephemeron per message
 * was measurable GC work at tens of thousands of messages a second. @internal
 */
export let portSlot: {
  get(message: PortMessage<unknown, unknown>): unknown;
  set(message: PortMessage<unknown, unknown>, value: unknown): void;
};

/** Wraps a failure inside a user codec as FLTPORT_CODEC (the codec library's CodecError already is). */
export function codecFailure(error: unknown, what: string): FltportError {
  // The codec library's CodecError becomes a FltportError once re-parented; until then (and
  // for hand-written codecs) wrap, keeping the original as cause for its path and offset.
  if (error instanceof FltportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FltportError('FLTPORT_CODEC', `${what}: ${message}`, { cause: error });
}

function normalizeStatus(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw new InvalidArgumentError(
      `reply: status must be a 32-bit NTSTATUS (an integer from -0x80000000 to 0xFFFFFFFF), got ${describe(value)}`,
      { argument: 'status' },
    );
  }
  return value | 0;
}

/**
 * One message from the driver (FilterGetMessage). `bytes` is the payload after the
 * 16-byte FILTER_MESSAGE_HEADER.
 */
export class PortMessage<M = Uint8Array, R = Uint8Array> {
  /** FILTER_MESSAGE_HEADER.MessageId: 64-bit, unique per connection. Never use it to decide whether to reply. */
  readonly id: bigint;
  /** FILTER_MESSAGE_HEADER.ReplyLength: 0 when the driver expects no reply, else its reply capacity + 16. */
  readonly replyLength: number;
  /** True when the driver passed a reply buffer (replyLength !== 0) and waits for an answer. */
  readonly expectsReply: boolean;
  /** Largest reply payload the driver accepts (replyLength - 16; 0 when no reply is expected). */
  readonly replyCapacity: number;
  /**
   * The payload, a view into the batch's ArrayBuffer. The buffer belongs to the garbage
   * collector, not to native code: the view stays valid for as long as you reference it.
   */
  readonly bytes: Uint8Array;
  /** performance.now() when the batch holding this message reached JavaScript. */
  readonly receivedAt: number;
  /** Which connection it came from: increases by one on every reconnect. */
  readonly connection: number;

  readonly #decoder: Decoder<M> | undefined;
  readonly #encoder: Encoder<R> | undefined;
  readonly #sink: ReplySink;
  #state: ReplyState = 'unanswered';
  #decoded = false;
  #body: M | undefined;
  #bodyError: FltportError | undefined;
  #portSlot: unknown = undefined;

  static {
    portSlot = {
      get: (message) => message.#portSlot,
      set: (message, value) => {
        message.#portSlot = value;
      },
    };
  }

  /** @internal Built by the port from a native batch. */
  constructor(init: {
    id: bigint;
    replyLength: number;
    bytes: Uint8Array;
    receivedAt: number;
    connection: number;
    decoder: Decoder<M> | undefined;
    encoder: Encoder<R> | undefined;
    sink: ReplySink;
  }) {
    this.id = init.id;
    this.replyLength = init.replyLength;
    this.expectsReply = init.replyLength !== 0;
    this.replyCapacity = this.expectsReply ? Math.max(0, init.replyLength - REPLY_HEADER_SIZE) : 0;
    this.bytes = init.bytes;
    this.receivedAt = init.receivedAt;
    this.connection = init.connection;
    this.#decoder = init.decoder;
    this.#encoder = init.encoder;
    this.#sink = init.sink;
  }

  /**
   * The payload decoded with the port's `message` codec (decoded on first access, then
   * cached); the bytes themselves when the port has no codec. A decoding failure throws a
   * FLTPORT_CODEC error, on every access.
   */
  get body(): M {
    if (!this.#decoded) {
      this.#decoded = true;
      if (this.#decoder === undefined) {
        this.#body = this.bytes as unknown as M;
      } else {
        try {
          this.#body = this.#decoder.decode(this.bytes);
        } catch (error) {
          this.#bodyError = codecFailure(error, `message ${this.id}: the message codec could not decode ${this.bytes.byteLength} bytes`);
        }
      }
    }
    if (this.#bodyError !== undefined) throw this.#bodyError;
    return this.#body as M;
  }

  /** Whether reply()/replyBytes() was already called for this message. */
  get replied(): boolean {
    return this.#state === 'replied';
  }

  /**
   * Answers the driver: encodes `value` with the port's `reply` codec (or takes it as bytes),
   * checks it fits replyCapacity, and sends it with FILTER_REPLY_HEADER{status, id}.
   * Resolves when the kernel took it. Rejects with FLTPORT_NO_REPLY_EXPECTED,
   * FLTPORT_ALREADY_REPLIED, FLTPORT_REPLY_TOO_LARGE or FLTPORT_CODEC before anything is
   * sent; with FLTPORT_NO_WAITER (LateReplyError) when the driver's sender already timed
   * out; FLTPORT_CLOSED / FLTPORT_DISCONNECTED when the connection is gone.
   */
  reply(value: R, options?: ReplyOptions): Promise<void> {
    return this.#reply(value, options, this.#encoder, 'reply');
  }

  /** Like reply(), with raw payload bytes whatever the port's reply codec. */
  replyBytes(payload: Uint8Array, options?: ReplyOptions): Promise<void> {
    return this.#reply(payload, options, undefined, 'replyBytes');
  }

  async #reply(value: unknown, options: ReplyOptions | undefined, encoder: Encoder<unknown> | undefined, where: string): Promise<void> {
    const opts = checkOptions(`message.${where}`, options, ['status', 'truncate']);
    const status = normalizeStatus(opts['status']);
    const truncate = opts['truncate'];
    if (truncate !== undefined && typeof truncate !== 'boolean') {
      throw new InvalidArgumentError(`message.${where}: truncate must be a boolean, got ${describe(truncate)}`, {
        argument: 'truncate',
      });
    }
    if (!this.expectsReply) {
      throw new NoReplyExpectedError(
        `message ${this.id} expects no reply: its ReplyLength is 0 (the driver passed no reply buffer to FltSendMessage); ` +
          'replying would fail in the kernel with 0x801F0020 (ERROR_FLT_NO_WAITER_FOR_REPLY)',
      );
    }
    if (this.#state === 'replied') {
      throw new AlreadyRepliedError(
        `message ${this.id} was already replied to; a second reply would fail in the kernel with 0x801F0020 (ERROR_FLT_NO_WAITER_FOR_REPLY)`,
      );
    }
    let payload: Uint8Array;
    try {
      payload = encoder === undefined ? encodeWith(undefined, value, `message.${where}`) : encodeWith(encoder, value, `message.${where}`);
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw error;
      throw codecFailure(error, `message ${this.id}: the reply codec could not encode the reply`);
    }
    if (payload.byteLength > this.replyCapacity) {
      if (truncate !== true) {
        throw new ReplyTooLargeError(
          `message ${this.id}: the reply payload is ${payload.byteLength} bytes but the driver's reply buffer holds ` +
            `${this.replyCapacity} (ReplyLength ${this.replyLength} = ${this.replyCapacity} + the 16-byte FILTER_REPLY_HEADER). ` +
            'The kernel would copy only part of it and the driver would get STATUS_BUFFER_OVERFLOW (0x80000005). ' +
            'Check the reply struct against the driver (tail padding counts), or pass { truncate: true }.',
          { size: payload.byteLength, capacity: this.replyCapacity },
        );
      }
      payload = payload.subarray(0, this.replyCapacity);
    }
    this.#state = 'replied';
    this.#sink.settled(this);
    return this.#sink.sendReply(this, payload, status);
  }

  /** @internal The port marks messages of a dead connection so that replies fail locally. */
  markUnanswerable(): void {
    if (this.#state === 'unanswered') this.#state = 'replied';
  }

  toString(): string {
    return `PortMessage(id=${this.id}, replyLength=${this.replyLength}, ${this.bytes.byteLength} bytes)`;
  }

  /** For console.log / util.inspect: the numbers that matter, not the whole buffer. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const status = this.expectsReply ? (this.replied ? 'replied' : `expects reply ≤ ${this.replyCapacity} bytes`) : 'one-way';
    return `PortMessage { id: ${this.id}n, replyLength: ${this.replyLength}, bytes: ${this.bytes.byteLength}, ${status} }`;
  }
}

// ---------------------------------------------------------------------------------------

/** How the stream ended: closed by us (iterators finish normally) or failed (they throw once). */
type End = { kind: 'closed' } | { kind: 'error'; error: Error };

interface Waiter<T> {
  resolve(value: T | null): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
}

/**
 * The queue between native batches and the one consumer. `take()` hands out one item and
 * calls `onTake(item)` exactly once per item handed out (the port's consumed(1)).
 * @internal
 */
export class MessageQueue<T> {
  readonly #items: T[] = [];
  #head = 0;
  readonly #waiters: Waiter<T>[] = [];
  #end: End | undefined;
  #errorDelivered = false;
  readonly #onTake: (item: T) => void;
  /**
   * The signal the queue listens to for its waiters. A consumer passes the same signal to
   * every take(), so the listener is added once per consumer, not once per wait (an
   * EventTarget listener costs more than the rest of a take).
   */
  #listened: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    const signal = this.#listened as AbortSignal;
    this.#listened = undefined;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i] as Waiter<T>;
      if (waiter.signal !== signal) continue;
      this.#waiters.splice(i, 1);
      waiter.reject(abortErrorFrom(signal, 'Waiting for a message'));
    }
  };

  constructor(onTake: (item: T) => void) {
    this.#onTake = onTake;
  }

  #listen(signal: AbortSignal): void {
    if (signal === this.#listened) return;
    this.#listened?.removeEventListener('abort', this.#onAbort);
    this.#listened = signal;
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#end !== undefined;
  }

  push(item: T): void {
    if (this.#end !== undefined) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#onTake(item);
      waiter.resolve(item);
      return;
    }
    this.#items.push(item);
  }

  /** Drops queued items (they were never handed out, so never counted as consumed). */
  clear(): T[] {
    const dropped = this.#items.slice(this.#head);
    this.#items.length = 0;
    this.#head = 0;
    return dropped;
  }

  /**
   * Ends the stream. 'closed': waiting and later takes get null (done). 'error': queued
   * items are still handed out, then one take rejects with the error, then null.
   */
  end(end: End): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    if (end.kind === 'closed') this.clear();
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) {
      if (end.kind === 'error' && !this.#errorDelivered) {
        this.#errorDelivered = true;
        w.reject(end.error);
      } else {
        w.resolve(null);
      }
    }
  }

  /** The next item; null when the stream is over. Rejects once with the end error, or with AbortError. */
  take(signal?: AbortSignal): Promise<T | null> {
    if (this.length > 0) {
      const item = this.#items[this.#head] as T;
      this.#head += 1;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items.splice(0, this.#head);
        this.#head = 0;
      }
      this.#onTake(item);
      return Promise.resolve(item);
    }
    if (this.#end !== undefined) {
      if (this.#end.kind === 'error' && !this.#errorDelivered) {
        this.#errorDelivered = true;
        return Promise.reject(this.#end.error);
      }
      return Promise.resolve(null);
    }
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'Waiting for a message'));
    if (signal !== undefined) this.#listen(signal);
    return new Promise<T | null>((resolve, reject) => {
      this.#waiters.push({ resolve, reject, signal });
    });
  }
}

/**
 * An async iterator over a queue that holds the consumer slot of its port until it ends
 * (done, break/return, throw, or abort). @internal
 */
export function queueIterator<T>(
  queue: MessageQueue<T>,
  release: () => void,
  signal: AbortSignal | undefined,
): AsyncIterableIterator<T> & AsyncDisposable {
  let finished = false;
  // return() must also withdraw a next() still waiting, or the next message would be
  // handed (and counted as consumed) to an iterator nobody reads any more.
  const stop = new AbortController();
  const takeSignal = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const finish = (): void => {
    if (!finished) {
      finished = true;
      stop.abort();
      release();
    }
  };
  const iterator: AsyncIterableIterator<T> & AsyncDisposable = {
    async next(): Promise<IteratorResult<T, undefined>> {
      if (finished) return { done: true, value: undefined };
      let item: T | null;
      try {
        item = await queue.take(takeSignal);
      } catch (error) {
        if (finished) return { done: true, value: undefined };
        finish();
        throw error;
      }
      if (item === null) {
        finish();
        return { done: true, value: undefined };
      }
      return { done: false, value: item };
    },
    async return(): Promise<IteratorResult<T, undefined>> {
      finish();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async [Symbol.asyncDispose]() {
      finish();
    },
  };
  return iterator;
}

/** "0x%08X" for NTSTATUS values in messages. @internal */
export const hexStatus = formatHex;
