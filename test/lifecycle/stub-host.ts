// A scripted peer of the fltsim wire protocol (native/fltsim/include/fltsim/wire.h) for the
// N-API lifecycle tests: the test drives exactly when messages arrive, when replies and sends
// complete, and when the "driver" disconnects, so each life-cycle edge (close with receives
// pending, close during a send, exit with open ports, a Worker that exits with its port open)
// happens on purpose rather than by timing.
//
// It is not a simulator: no Filter Manager semantics beyond what the client needs to see
// (pending GETs complete in FIFO order, CANCEL completes them with STATUS_CANCELLED, a reply
// to an unknown id gets STATUS_FLT_NO_WAITER_FOR_REPLY). Behaviour belongs to fltsim-host
// and the contract suite; this is the transport double for native/napi.
//
// It runs in the test process, never in the child under test: a child whose JS thread blocks
// (a synchronous close in a finalizer) must not block its own host.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HELLO = 1;
const HELLO_RESULT = 2;
const CONNECT = 10;
const CONNECT_RESULT = 11;
const GET = 12;
const GET_COMPLETE = 13;
const CANCEL = 14;
const REPLY = 15;
const REPLY_RESULT = 16;
const SEND = 17;
const SEND_RESULT = 18;
const MS_CREATE = 30;
const MS_OPEN = 31;
const MS_OPEN_RESULT = 32;
const MS_READ = 33;
const MS_READ_COMPLETE = 34;
const MS_WRITE = 35;
const MS_WRITE_RESULT = 36;
const MS_QUERY = 37;
const MS_QUERY_RESULT = 38;
const MS_SET = 39;
const MS_SET_RESULT = 40;
const KIND_PORT = 1;
const KIND_MAILSLOT = 2;
const MAGIC = 0x4d495346;
const CANCEL_ALL = 0xffffffffffffffffn;

export const STATUS_CANCELLED = 0xc0000120;
export const STATUS_PORT_DISCONNECTED = 0xc0000037;
export const STATUS_FLT_NO_WAITER_FOR_REPLY = 0xc01c0020;
export const STATUS_OBJECT_NAME_NOT_FOUND = 0xc0000034;
export const STATUS_OBJECT_NAME_COLLISION = 0xc0000035;

interface Frame {
  type: number;
  tag: bigint;
  body: Buffer;
}

function frame(type: number, tag: bigint, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(16 + body.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeBigUInt64LE(tag, 8);
  return Buffer.concat([header, body]);
}

function statusBody(status: number, information = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(status >>> 0, 0);
  b.writeUInt32LE(information >>> 0, 4);
  return b;
}

export interface ReceivedReply {
  messageId: bigint;
  status: number;
  payload: Buffer;
}

export interface PendingSend {
  input: Buffer;
  outputCapacity: number;
  complete(status: number, output?: Buffer): void;
}

/** One client connection (one FilterConnectCommunicationPort). */
export class StubConnection {
  name = '';
  context = Buffer.alloc(0);
  readonly replies: ReceivedReply[] = [];
  readonly sends: PendingSend[] = [];
  cancels = 0;
  /** Messages delivered so far. */
  delivered = 0;
  #autoLeft = 0;
  #autoSize = 0;
  #gets: { tag: bigint; size: number }[] = [];
  #awaiting: Map<bigint, boolean> = new Map();
  #nextId = 1n;
  #waiters: (() => void)[] = [];
  readonly ended: Promise<void>;
  #socket: Socket;

  constructor(socket: Socket, auto?: { size: number; count: number }) {
    this.#socket = socket;
    this.#autoLeft = auto?.count ?? 0;
    this.#autoSize = auto?.size ?? 0;
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get pendingGets(): number {
    return this.#gets.length;
  }

  /** Resolves once `predicate` holds (checked after every frame from the client). */
  async until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stub host: timed out waiting for ${what}`)), timeoutMs);
      const check = (): void => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.#waiters.push(check);
        }
      };
      this.#waiters.push(check);
    });
  }

  /** FltSendMessage: completes the oldest pending GET with this message; returns its id. */
  deliver(payload: Buffer, replyLength = 0): bigint {
    const get = this.#gets.shift();
    if (!get) throw new Error('stub host: no pending GET to deliver into');
    const id = this.#nextId++;
    const header = Buffer.alloc(16);
    header.writeUInt32LE(replyLength ? replyLength + 16 : 0, 0);
    header.writeBigUInt64LE(id, 8);
    const bytes = Buffer.concat([header, payload]);
    if (bytes.length > get.size) {
      // The STATUS_BUFFER_TOO_SMALL path belongs to fltsim-host's tests; here it is a test bug.
      throw new Error(`stub host: message of ${bytes.length} bytes for a ${get.size}-byte GET`);
    }
    if (replyLength) this.#awaiting.set(id, true);
    this.delivered++;
    this.#write(frame(GET_COMPLETE, get.tag, statusBody(0, bytes.length), bytes));
    return id;
  }

  /** The driver closes the client port: every pending GET completes with PORT_DISCONNECTED. */
  disconnect(): void {
    for (const get of this.#gets.splice(0)) {
      this.#write(frame(GET_COMPLETE, get.tag, statusBody(STATUS_PORT_DISCONNECTED)));
    }
    this.#awaiting.clear();
  }

  onFrame(f: Frame): void {
    switch (f.type) {
      case GET:
        this.#gets.push({ tag: f.tag, size: f.body.readUInt32LE(0) });
        if (this.#autoLeft > 0) {
          this.#autoLeft--;
          this.deliver(Buffer.alloc(this.#autoSize, 0x5a));
        }
        break;
      case CANCEL: {
        this.cancels++;
        const target = f.body.readBigUInt64LE(0);
        const cancelled = this.#gets.filter((g) => target === CANCEL_ALL || g.tag === target);
        this.#gets = this.#gets.filter((g) => !cancelled.includes(g));
        for (const g of cancelled) this.#write(frame(GET_COMPLETE, g.tag, statusBody(STATUS_CANCELLED)));
        break;
      }
      case REPLY: {
        const status = f.body.readInt32LE(0);
        const messageId = f.body.readBigUInt64LE(8);
        this.replies.push({ messageId, status, payload: Buffer.from(f.body.subarray(16)) });
        const waiting = this.#awaiting.delete(messageId);
        this.#write(frame(REPLY_RESULT, f.tag, statusBody(waiting ? 0 : STATUS_FLT_NO_WAITER_FOR_REPLY)));
        break;
      }
      case SEND: {
        const outputCapacity = f.body.readUInt32LE(0);
        const input = Buffer.from(f.body.subarray(8));
        let done = false;
        this.sends.push({
          input,
          outputCapacity,
          complete: (status, output = Buffer.alloc(0)) => {
            if (done) return;
            done = true;
            const out = output.subarray(0, outputCapacity);
            this.#write(frame(SEND_RESULT, f.tag, statusBody(status, out.length), out));
          },
        });
        break;
      }
      default:
        throw new Error(`stub host: unexpected frame type ${f.type}`);
    }
    for (const w of this.#waiters.splice(0)) w();
  }

  #write(b: Buffer): void {
    if (!this.#socket.destroyed) this.#socket.write(b);
  }
}

/** The server end of one mailslot (CreateMailslot); client writes queue or complete reads. */
export class StubMailslot {
  readonly name: string;
  readonly maxMessageSize: number;
  readTimeout: bigint;
  cancels = 0;
  readonly messages: Buffer[] = [];
  #reads: { tag: bigint; size: number }[] = [];
  #socket: Socket;
  readonly ended: Promise<void>;

  constructor(socket: Socket, name: string, maxMessageSize: number, readTimeout: bigint) {
    this.#socket = socket;
    this.name = name;
    this.maxMessageSize = maxMessageSize;
    this.readTimeout = readTimeout;
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get pendingReads(): number {
    return this.#reads.length;
  }

  write(message: Buffer): void {
    this.messages.push(message);
    this.#pump();
  }

  onFrame(f: Frame): void {
    switch (f.type) {
      case MS_READ:
        this.#reads.push({ tag: f.tag, size: f.body.readUInt32LE(0) });
        this.#pump();
        break;
      case CANCEL:
        this.cancels++;
        for (const r of this.#reads.splice(0)) {
          this.#socket.write(frame(MS_READ_COMPLETE, r.tag, statusBody(STATUS_CANCELLED)));
        }
        break;
      case MS_QUERY: {
        const b = Buffer.alloc(32);
        b.writeUInt32LE(0, 0);
        b.writeUInt32LE(this.maxMessageSize, 4);
        b.writeUInt32LE(0, 8);
        b.writeUInt32LE(this.messages.length ? this.messages[0]!.length : 0xffffffff, 12);
        b.writeUInt32LE(this.messages.length, 16);
        b.writeBigInt64LE(this.readTimeout, 24);
        this.#socket.write(frame(MS_QUERY_RESULT, f.tag, b));
        break;
      }
      case MS_SET:
        this.readTimeout = f.body.readBigInt64LE(0);
        this.#socket.write(frame(MS_SET_RESULT, f.tag, statusBody(0)));
        break;
      default:
        throw new Error(`stub host: unexpected mailslot frame type ${f.type}`);
    }
  }

  #pump(): void {
    while (this.#reads.length && this.messages.length) {
      const r = this.#reads.shift()!;
      const m = this.messages.shift()!;
      this.#socket.write(frame(MS_READ_COMPLETE, r.tag, statusBody(0, m.length), m));
    }
  }
}

export interface StubHostOptions {
  /** NTSTATUS answered to CONNECT (0 accepts). */
  connectStatus?: number;
  /** Complete every GET at once with a message of `size` bytes, `count` times per connection. */
  autoDeliver?: { size: number; count: number };
}

export class StubHost {
  readonly dir: string;
  readonly connections: StubConnection[] = [];
  readonly mailslots = new Map<string, StubMailslot>();
  #server: Server;
  #sockets = new Set<Socket>();
  #waiters: (() => void)[] = [];

  private constructor(dir: string, server: Server) {
    this.dir = dir;
    this.#server = server;
  }

  static async start(options: StubHostOptions = {}): Promise<StubHost> {
    const dir = mkdtempSync(join(tmpdir(), 'fltport-stub-'));
    let host!: StubHost;
    const server = createServer((socket) => host.#accept(socket, options));
    host = new StubHost(dir, server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(join(dir, 'fltsim.sock'), () => resolve());
    });
    return host;
  }

  /** The n-th (0-based) port connection, once it connected and armed `gets` receives. */
  async connection(n = 0, gets = 1, timeoutMs = 10_000): Promise<StubConnection> {
    const deadline = Date.now() + timeoutMs;
    while (this.connections.length <= n) {
      if (Date.now() > deadline) throw new Error(`stub host: no connection #${n}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const c = this.connections[n]!;
    await c.until(() => c.pendingGets >= gets, `${gets} pending GETs`, Math.max(1, deadline - Date.now()));
    return c;
  }

  /** The mailslot named `name`, once a client created it. */
  async mailslot(name: string, timeoutMs = 10_000): Promise<StubMailslot> {
    const deadline = Date.now() + timeoutMs;
    while (!this.mailslots.has(name)) {
      if (Date.now() > deadline) throw new Error(`stub host: no mailslot ${name}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.mailslots.get(name)!;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  #accept(socket: Socket, options: StubHostOptions): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    let conn: StubConnection | undefined;
    let slot: StubMailslot | undefined; // the server end this stream created
    let target: StubMailslot | undefined; // the mailslot this client stream opened
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 16 && pending.length >= pending.readUInt32LE(0)) {
        const length = pending.readUInt32LE(0);
        const f: Frame = {
          type: pending.readUInt16LE(4),
          tag: pending.readBigUInt64LE(8),
          body: Buffer.from(pending.subarray(16, length)),
        };
        pending = pending.subarray(length);
        if (f.type === HELLO) {
          const kind = f.body.readUInt16LE(6);
          const ok = f.body.readUInt32LE(0) === MAGIC && (kind === KIND_PORT || kind === KIND_MAILSLOT);
          socket.write(frame(HELLO_RESULT, f.tag, statusBody(ok ? 0 : 0xc00000bb)));
        } else if (f.type === MS_CREATE) {
          const nameBytes = f.body.readUInt16LE(16);
          const name = f.body.subarray(24, 24 + nameBytes).toString('utf16le');
          if (this.mailslots.has(name)) {
            socket.write(frame(MS_OPEN_RESULT, f.tag, statusBody(STATUS_OBJECT_NAME_COLLISION)));
          } else {
            slot = new StubMailslot(socket, name, f.body.readUInt32LE(0), f.body.readBigInt64LE(8));
            this.mailslots.set(name, slot);
            const created = slot;
            socket.once('close', () => this.mailslots.delete(created.name));
            socket.write(frame(MS_OPEN_RESULT, f.tag, statusBody(0)));
            for (const w of this.#waiters.splice(0)) w();
          }
        } else if (f.type === MS_OPEN) {
          const nameBytes = f.body.readUInt16LE(0);
          target = this.mailslots.get(f.body.subarray(8, 8 + nameBytes).toString('utf16le'));
          socket.write(frame(MS_OPEN_RESULT, f.tag, statusBody(target ? 0 : STATUS_OBJECT_NAME_NOT_FOUND)));
        } else if (f.type === MS_WRITE && target) {
          target.write(Buffer.from(f.body));
          socket.write(frame(MS_WRITE_RESULT, f.tag, statusBody(0, f.body.length)));
        } else if (slot) {
          slot.onFrame(f);
        } else if (f.type === CONNECT) {
          const nameBytes = f.body.readUInt16LE(4);
          const contextBytes = f.body.readUInt16LE(6);
          const status = options.connectStatus ?? 0;
          socket.write(frame(CONNECT_RESULT, f.tag, statusBody(status)));
          if (status === 0) {
            conn = new StubConnection(socket, options.autoDeliver);
            conn.name = f.body.subarray(8, 8 + nameBytes).toString('utf16le');
            conn.context = Buffer.from(f.body.subarray(8 + nameBytes, 8 + nameBytes + contextBytes));
            this.connections.push(conn);
            for (const w of this.#waiters.splice(0)) w();
          }
        } else if (conn) {
          conn.onFrame(f);
        } else {
          socket.destroy();
        }
      }
    });
  }
}
