// A TypeScript client of the fltsim wire protocol (native/fltsim/include/fltsim/wire.h): what
// native/posix does for the addon, written out plainly so that tests can drive fltsim-host
// frame by frame and see the raw NTSTATUS of every completion. One SimStream = one socket =
// one user handle. Imports only node:* so that it also runs, compiled by tsc, in a child
// process started under another uid (see sim-peer.ts).
import { connect as netConnect, type Socket } from 'node:net';

export const FrameType = {
  HELLO: 1,
  HELLO_RESULT: 2,
  CONNECT: 10,
  CONNECT_RESULT: 11,
  GET: 12,
  GET_COMPLETE: 13,
  CANCEL: 14,
  REPLY: 15,
  REPLY_RESULT: 16,
  SEND: 17,
  SEND_RESULT: 18,
  MS_CREATE: 30,
  MS_OPEN: 31,
  MS_OPEN_RESULT: 32,
  MS_READ: 33,
  MS_READ_COMPLETE: 34,
  MS_WRITE: 35,
  MS_WRITE_RESULT: 36,
  MS_QUERY: 37,
  MS_QUERY_RESULT: 38,
  MS_SET: 39,
  MS_SET_RESULT: 40,
  CONTROL: 60,
  CONTROL_RESULT: 61,
  CONTROL_EVENT: 62,
} as const;

export const StreamKind = { PORT: 1, MAILSLOT: 2, CONTROL: 3 } as const;
export type StreamKindValue = (typeof StreamKind)[keyof typeof StreamKind];

export const WIRE_MAGIC = 0x4d495346;
export const WIRE_VERSION = 1;
export const MAX_FRAME = 16 * 1024 * 1024;
export const CANCEL_ALL = 0xffffffffffffffffn;
export const SEND_IN_NULL = 0x1;
export const SEND_OUT_NULL = 0x2;
export const MESSAGE_HEADER_SIZE = 16;

export interface Frame {
  type: number;
  flags: number;
  tag: bigint;
  body: Buffer;
}

/** One frame's bytes: header (Length, Type, Flags, Tag) and body. */
export function encodeFrame(type: number, tag: bigint, body: Uint8Array = new Uint8Array(0), flags = 0): Buffer {
  const out = Buffer.alloc(16 + body.length);
  out.writeUInt32LE(16 + body.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeBigUInt64LE(tag, 8);
  out.set(body, 16);
  return out;
}

export function utf16le(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

/** A socket speaking frames: send() writes, next()/waitFor() read in arrival order. */
export class SimStream {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #frames: Frame[] = [];
  readonly #waiters: Array<() => void> = [];
  #ended = false;
  #endError: Error | undefined;
  #nextTag = 1n;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.#end(undefined));
    socket.on('error', (e) => this.#end(e));
  }

  /** Connects to `socketPath` without sending anything (tests of malformed first frames). */
  static async raw(socketPath: string): Promise<SimStream> {
    const socket = netConnect(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new SimStream(socket);
  }

  /** Connects and says HELLO for `kind`; resolves once the host accepted (status 0). */
  static async open(socketPath: string, kind: StreamKindValue, pid = process.pid): Promise<SimStream> {
    const stream = await SimStream.raw(socketPath);
    const body = Buffer.alloc(16);
    body.writeUInt32LE(WIRE_MAGIC, 0);
    body.writeUInt16LE(WIRE_VERSION, 4);
    body.writeUInt16LE(kind, 6);
    body.writeUInt32LE(pid >>> 0, 8);
    const tag = stream.tag();
    stream.send(FrameType.HELLO, tag, body);
    const answer = await stream.waitFor((f) => f.type === FrameType.HELLO_RESULT && f.tag === tag);
    const status = answer.body.readUInt32LE(0);
    if (status !== 0) {
      stream.close();
      throw new Error(`fltsim-host refused HELLO: status 0x${status.toString(16)}`);
    }
    return stream;
  }

  tag(): bigint {
    return this.#nextTag++;
  }

  send(type: number, tag: bigint, body: Uint8Array = new Uint8Array(0)): void {
    this.#socket.write(encodeFrame(type, tag, body));
  }

  /** Raw bytes, for malformed-frame tests. */
  write(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves when the host closed the stream (or it failed). */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) {
      if (Date.now() >= deadline) throw new Error('stream still open after the timeout');
      await this.#wait(deadline);
    }
  }

  /** The first queued frame matching `predicate` (removed from the queue), waiting for it. */
  async waitFor(predicate: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#frames.findIndex(predicate);
      if (i >= 0) return this.#frames.splice(i, 1)[0] as Frame;
      if (this.#ended) throw new Error(`stream closed while waiting for a frame${this.#endError ? `: ${this.#endError.message}` : ''}`);
      if (Date.now() >= deadline) throw new Error('no matching frame within the timeout');
      await this.#wait(deadline);
    }
  }

  /** Removes and returns every queued frame matching `predicate`, without waiting. */
  takeAll(predicate: (f: Frame) => boolean): Frame[] {
    const taken: Frame[] = [];
    for (let i = 0; i < this.#frames.length; ) {
      const f = this.#frames[i] as Frame;
      if (predicate(f)) {
        taken.push(f);
        this.#frames.splice(i, 1);
      } else {
        i++;
      }
    }
    return taken;
  }

  close(): void {
    this.#socket.destroy();
  }

  #wait(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      const waiter = (): void => done();
      this.#waiters.push(waiter);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  #end(error: Error | undefined): void {
    this.#ended = true;
    this.#endError ??= error;
    this.#wake();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 16) {
      const length = this.#buffer.readUInt32LE(0);
      if (length < 16 || length > MAX_FRAME) {
        this.#end(new Error(`host sent a frame of Length ${length}`));
        this.#socket.destroy();
        return;
      }
      if (this.#buffer.length < length) break;
      this.#frames.push({
        type: this.#buffer.readUInt16LE(4),
        flags: this.#buffer.readUInt16LE(6),
        tag: this.#buffer.readBigUInt64LE(8),
        body: Buffer.from(this.#buffer.subarray(16, length)),
      });
      this.#buffer = this.#buffer.subarray(length);
    }
    this.#wake();
  }
}

/** OVERLAPPED.Internal / InternalHigh of a completed request, plus what the kernel wrote. */
export interface Completion {
  tag: bigint;
  status: number;
  information: number;
  bytes: Buffer;
}

function completionOf(f: Frame): Completion {
  return {
    tag: f.tag,
    status: f.body.readUInt32LE(0),
    information: f.body.readUInt32LE(4),
    bytes: Buffer.from(f.body.subarray(8)),
  };
}

/** A FilterGetMessage completion with its FILTER_MESSAGE_HEADER decoded. */
export interface GetCompletion extends Completion {
  /** FILTER_MESSAGE_HEADER.ReplyLength (0 when no reply is expected). */
  replyLength: number;
  messageId: bigint;
  payload: Buffer;
}

function getCompletionOf(f: Frame): GetCompletion {
  const c = completionOf(f);
  const hasHeader = c.bytes.length >= MESSAGE_HEADER_SIZE;
  return {
    ...c,
    replyLength: hasHeader ? c.bytes.readUInt32LE(0) : 0,
    messageId: hasHeader ? c.bytes.readBigUInt64LE(8) : 0n,
    payload: hasHeader ? Buffer.from(c.bytes.subarray(MESSAGE_HEADER_SIZE)) : Buffer.alloc(0),
  };
}

export interface ConnectOptions {
  context?: Uint8Array;
  options?: number;
  pid?: number;
}

/** One FilterConnectCommunicationPort handle. */
export class SimPortClient {
  readonly stream: SimStream;
  /** NTSTATUS of the connect (0 when the handle is usable). */
  readonly status: number;

  private constructor(stream: SimStream, status: number) {
    this.stream = stream;
    this.status = status;
  }

  /** Connects; check `.status` (the stream stays open after a failed connect, like a retry). */
  static async connect(socketPath: string, name: string, options: ConnectOptions = {}): Promise<SimPortClient> {
    const stream = await SimStream.open(socketPath, StreamKind.PORT, options.pid);
    const nameBytes = utf16le(name);
    const context = options.context ?? new Uint8Array(0);
    const body = Buffer.alloc(8 + nameBytes.length + context.length);
    body.writeUInt32LE(options.options ?? 0, 0);
    body.writeUInt16LE(nameBytes.length, 4);
    body.writeUInt16LE(context.length, 6);
    nameBytes.copy(body, 8);
    body.set(context, 8 + nameBytes.length);
    const tag = stream.tag();
    stream.send(FrameType.CONNECT, tag, body);
    const answer = await stream.waitFor((f) => f.type === FrameType.CONNECT_RESULT && f.tag === tag);
    return new SimPortClient(stream, answer.body.readUInt32LE(0));
  }

  /** Posts one FilterGetMessage of `bufferSize` bytes; `done` resolves at completion. */
  postGet(bufferSize: number): { tag: bigint; done: Promise<GetCompletion> } {
    const tag = this.stream.tag();
    const body = Buffer.alloc(8);
    body.writeUInt32LE(bufferSize >>> 0, 0);
    this.stream.send(FrameType.GET, tag, body);
    const done = this.stream
      .waitFor((f) => f.type === FrameType.GET_COMPLETE && f.tag === tag, 60_000)
      .then(getCompletionOf);
    // A test that never awaits a GET must not see an unhandled rejection when the stream ends.
    done.catch(() => undefined);
    return { tag, done };
  }

  get(bufferSize: number): Promise<GetCompletion> {
    return this.postGet(bufferSize).done;
  }

  cancel(tag: bigint | 'all'): void {
    const body = Buffer.alloc(8);
    body.writeBigUInt64LE(tag === 'all' ? CANCEL_ALL : tag, 0);
    this.stream.send(FrameType.CANCEL, this.stream.tag(), body);
  }

  /** FilterReplyMessage with a raw buffer (FILTER_REPLY_HEADER included); resolves to the NTSTATUS. */
  async replyRaw(buffer: Uint8Array): Promise<number> {
    const tag = this.stream.tag();
    this.stream.send(FrameType.REPLY, tag, buffer);
    const answer = await this.stream.waitFor((f) => f.type === FrameType.REPLY_RESULT && f.tag === tag);
    return answer.body.readUInt32LE(0);
  }

  /** FilterReplyMessage of 16 + payload bytes. */
  reply(messageId: bigint, payload: Uint8Array = new Uint8Array(0), status = 0): Promise<number> {
    const buffer = Buffer.alloc(16 + payload.length);
    buffer.writeUInt32LE(status >>> 0, 0);
    buffer.writeBigUInt64LE(messageId, 8);
    buffer.set(payload, 16);
    return this.replyRaw(buffer);
  }

  /** FilterSendMessage; `information` is *lpBytesReturned as the driver set it (validated). */
  async send(
    input: Uint8Array | null,
    outputCapacity: number,
    flags: { outputNull?: boolean } = {},
  ): Promise<Completion> {
    const inBytes = input ?? new Uint8Array(0);
    const body = Buffer.alloc(8 + inBytes.length);
    body.writeUInt32LE(outputCapacity >>> 0, 0);
    body.writeUInt32LE((input === null ? SEND_IN_NULL : 0) | (flags.outputNull ? SEND_OUT_NULL : 0), 4);
    body.set(inBytes, 8);
    const tag = this.stream.tag();
    this.stream.send(FrameType.SEND, tag, body);
    return completionOf(await this.stream.waitFor((f) => f.type === FrameType.SEND_RESULT && f.tag === tag, 60_000));
  }

  close(): void {
    this.stream.close();
  }
}

export interface MailslotInfoResult {
  status: number;
  maxMessageSize: number;
  quota: number;
  nextSize: number;
  count: number;
  readTimeout: bigint;
}

/** One mailslot handle: a server (create) or a writer (open). */
export class SimMailslotClient {
  readonly stream: SimStream;
  readonly status: number;

  private constructor(stream: SimStream, status: number) {
    this.stream = stream;
    this.status = status;
  }

  /** CreateMailslot (server end); readTimeout in NT form (100 ns; -1n forever; 0n immediate). */
  static async create(
    socketPath: string,
    name: string,
    options: { maxMessageSize?: number; quota?: number; readTimeout?: bigint } = {},
  ): Promise<SimMailslotClient> {
    const stream = await SimStream.open(socketPath, StreamKind.MAILSLOT);
    const nameBytes = utf16le(name);
    const body = Buffer.alloc(24 + nameBytes.length);
    body.writeUInt32LE(options.maxMessageSize ?? 0, 0);
    body.writeUInt32LE(options.quota ?? 0, 4);
    body.writeBigInt64LE(options.readTimeout ?? -1n, 8);
    body.writeUInt16LE(nameBytes.length, 16);
    nameBytes.copy(body, 24);
    return SimMailslotClient.#finish(stream, FrameType.MS_CREATE, body);
  }

  /** CreateFile on a mailslot (client end). */
  static async open(socketPath: string, name: string): Promise<SimMailslotClient> {
    const stream = await SimStream.open(socketPath, StreamKind.MAILSLOT);
    const nameBytes = utf16le(name);
    const body = Buffer.alloc(8 + nameBytes.length);
    body.writeUInt16LE(nameBytes.length, 0);
    nameBytes.copy(body, 8);
    return SimMailslotClient.#finish(stream, FrameType.MS_OPEN, body);
  }

  static async #finish(stream: SimStream, type: number, body: Buffer): Promise<SimMailslotClient> {
    const tag = stream.tag();
    stream.send(type, tag, body);
    const answer = await stream.waitFor((f) => f.type === FrameType.MS_OPEN_RESULT && f.tag === tag);
    return new SimMailslotClient(stream, answer.body.readUInt32LE(0));
  }

  postRead(bufferSize: number): { tag: bigint; done: Promise<Completion> } {
    const tag = this.stream.tag();
    const body = Buffer.alloc(8);
    body.writeUInt32LE(bufferSize >>> 0, 0);
    this.stream.send(FrameType.MS_READ, tag, body);
    const done = this.stream
      .waitFor((f) => f.type === FrameType.MS_READ_COMPLETE && f.tag === tag, 60_000)
      .then(completionOf);
    done.catch(() => undefined);
    return { tag, done };
  }

  read(bufferSize: number): Promise<Completion> {
    return this.postRead(bufferSize).done;
  }

  async write(data: Uint8Array): Promise<Completion> {
    const tag = this.stream.tag();
    this.stream.send(FrameType.MS_WRITE, tag, data);
    return completionOf(await this.stream.waitFor((f) => f.type === FrameType.MS_WRITE_RESULT && f.tag === tag));
  }

  async query(): Promise<MailslotInfoResult> {
    const tag = this.stream.tag();
    this.stream.send(FrameType.MS_QUERY, tag);
    const b = (await this.stream.waitFor((f) => f.type === FrameType.MS_QUERY_RESULT && f.tag === tag)).body;
    return {
      status: b.readUInt32LE(0),
      maxMessageSize: b.readUInt32LE(4),
      quota: b.readUInt32LE(8),
      nextSize: b.readUInt32LE(12),
      count: b.readUInt32LE(16),
      readTimeout: b.readBigInt64LE(24),
    };
  }

  async setReadTimeout(readTimeout: bigint): Promise<number> {
    const tag = this.stream.tag();
    const body = Buffer.alloc(8);
    body.writeBigInt64LE(readTimeout, 0);
    this.stream.send(FrameType.MS_SET, tag, body);
    return (await this.stream.waitFor((f) => f.type === FrameType.MS_SET_RESULT && f.tag === tag)).body.readUInt32LE(0);
  }

  cancel(tag: bigint | 'all'): void {
    const body = Buffer.alloc(8);
    body.writeBigUInt64LE(tag === 'all' ? CANCEL_ALL : tag, 0);
    this.stream.send(FrameType.CANCEL, this.stream.tag(), body);
  }

  close(): void {
    this.stream.close();
  }
}
