// A client of fltsim-host's control channel (wire.h FLTSIM_KIND_CONTROL; the language is in
// docs/fltsim.md): "verb key=value ..." lines in, one "ok ..."/"error ..." line per command
// (same tag), "event ..." lines (tag 0) in between. Plain JS with no dependencies so that it
// runs under Windows node.exe in the Wine lane as well as under Linux node.
//
// Address: under Windows (the Wine lane) the host's named pipe \\.\pipe\fltsim-<instance>,
// the instance being $FLTSIM_RUNTIME_DIR; elsewhere the AF_UNIX socket fltsim.sock in
// $FLTSIM_RUNTIME_DIR. A frame the host sends that breaks wire.h ends the client with an
// error; it never throws out of a socket callback.
import { connect as netConnect } from 'node:net';

const HELLO = 1;
const HELLO_RESULT = 2;
const CONTROL = 60;
const CONTROL_RESULT = 61;
const CONTROL_EVENT = 62;
const KIND_CONTROL = 3;
const MAGIC = 0x4d495346;
const WIRE_VERSION = 1;
const MAX_FRAME = 16 * 1024 * 1024;

/** Where fltsim-host listens, for this platform and environment. */
export function controlAddress(env = process.env) {
  const instance = env.FLTSIM_RUNTIME_DIR;
  if (process.platform === 'win32') return `\\\\.\\pipe\\fltsim-${instance || 'default'}`;
  if (!instance) throw new Error('FLTSIM_RUNTIME_DIR is not set');
  return `${instance}/fltsim.sock`;
}

/** Percent-encoding of values (ControlText.h): bytes outside 0x21..0x7E, '%' and '='. */
export function encodeValue(value) {
  const bytes = Buffer.from(String(value), 'utf8');
  let out = '';
  for (const b of bytes) {
    if (b < 0x21 || b > 0x7e || b === 0x25 || b === 0x3d) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

export function decodeValue(encoded) {
  const bytes = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '%' && i + 2 < encoded.length && /^[0-9a-fA-F]{2}$/.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(encoded[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** "head k=v ..." -> { head, args } (values decoded). */
export function parseLine(line) {
  const words = line.trim().split(/ +/);
  const head = words.shift() ?? '';
  const args = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) args[w] = '';
    else args[w.slice(0, eq)] = decodeValue(w.slice(eq + 1));
  }
  return { head, args };
}

function frame(type, tag, body) {
  const header = Buffer.alloc(16);
  header.writeUInt32LE(16 + body.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(0, 6);
  header.writeBigUInt64LE(BigInt(tag), 8);
  return Buffer.concat([header, body]);
}

export class FltsimControl {
  #socket;
  #buffer = Buffer.alloc(0);
  #nextTag = 1n;
  #pending = new Map(); // tag -> { resolve, reject, timer }
  #events = []; // { head, args, line } not yet consumed by waitEvent
  #eventWaiters = [];
  #failure = null;
  #helloResolve;

  static async open({ address = controlAddress(), timeoutMs = 10_000 } = {}) {
    const control = new FltsimControl();
    await control.#open(address, timeoutMs);
    return control;
  }

  async #open(address, timeoutMs) {
    const socket = netConnect(address);
    this.#socket = socket;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from fltsim-host at ${address} in ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot reach fltsim-host at ${address}: ${e.message}`, { cause: e }));
      });
      this.#helloResolve = (status) => {
        clearTimeout(timer);
        if (status === 0) resolve();
        else reject(new Error(`fltsim-host refused the control HELLO: status 0x${status.toString(16)}`));
      };
      socket.once('connect', () => {
        const body = Buffer.alloc(16);
        body.writeUInt32LE(MAGIC, 0);
        body.writeUInt16LE(WIRE_VERSION, 4);
        body.writeUInt16LE(KIND_CONTROL, 6);
        body.writeUInt32LE(process.pid, 8);
        socket.write(frame(HELLO, 0, body));
      });
      socket.on('data', (chunk) => this.#onData(chunk));
    });
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('fltsim-host closed the control stream')));
  }

  #fail(error) {
    if (this.#failure) return;
    this.#failure = error;
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.#pending.clear();
    for (const w of this.#eventWaiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.#eventWaiters = [];
  }

  #onData(chunk) {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 16) {
      const length = this.#buffer.readUInt32LE(0);
      if (length < 16 || length > MAX_FRAME) {
        this.#fail(new Error(`malformed frame from fltsim-host (Length ${length})`));
        this.#socket.destroy();
        return;
      }
      if (this.#buffer.length < length) return;
      const type = this.#buffer.readUInt16LE(4);
      const tag = this.#buffer.readBigUInt64LE(8);
      const body = this.#buffer.subarray(16, length);
      this.#buffer = this.#buffer.subarray(length);
      if (type === HELLO_RESULT) {
        this.#helloResolve?.(body.length >= 4 ? body.readUInt32LE(0) : -1);
        this.#helloResolve = undefined;
      } else if (type === CONTROL_RESULT) {
        const waiter = this.#pending.get(tag);
        if (!waiter) continue;
        this.#pending.delete(tag);
        clearTimeout(waiter.timer);
        waiter.resolve(body.toString('utf8'));
      } else if (type === CONTROL_EVENT) {
        const line = body.toString('utf8');
        const parsed = parseLine(line.replace(/^event /, ''));
        this.#events.push({ ...parsed, line });
        this.#serviceEventWaiters();
      }
    }
  }

  #serviceEventWaiters() {
    for (const w of [...this.#eventWaiters]) {
      const i = this.#events.findIndex(w.match);
      if (i < 0) continue;
      const [event] = this.#events.splice(i, 1);
      this.#eventWaiters.splice(this.#eventWaiters.indexOf(w), 1);
      clearTimeout(w.timer);
      w.resolve(event);
    }
  }

  /**
   * Sends `verb` with `args` (object; values encoded here) and resolves with
   * { ok, status, args, line }: `status` is the NTSTATUS of an "error" answer (0 for "ok").
   */
  call(verb, args = {}, { timeoutMs = 15_000 } = {}) {
    if (this.#failure) return Promise.reject(this.#failure);
    const line = [verb, ...Object.entries(args).map(([k, v]) => `${k}=${encodeValue(v)}`)].join(' ');
    const tag = this.#nextTag++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(tag);
        reject(new Error(`fltsim-host did not answer "${line}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(tag, {
        timer,
        reject,
        resolve: (text) => {
          const { head, args: out } = parseLine(text);
          resolve({ ok: head === 'ok', status: head === 'ok' ? 0 : Number(out.status ?? -1), args: out, line: text });
        },
      });
      this.#socket.write(frame(CONTROL, tag, Buffer.from(line, 'utf8')));
    });
  }

  /** Like call(), but an "error" answer rejects (with the line in the message). */
  async must(verb, args = {}, options) {
    const r = await this.call(verb, args, options);
    if (!r.ok) throw new Error(`fltsim-host: ${verb} failed: ${r.line}`);
    return r.args;
  }

  /** The first event (past or future, not yet taken) named `name` whose args match `fields`. */
  waitEvent(name, fields = {}, { timeoutMs = 10_000 } = {}) {
    const match = (e) => e.head === name && Object.entries(fields).every(([k, v]) => e.args[k] === String(v));
    const i = this.#events.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#events.splice(i, 1)[0]);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.#eventWaiters.splice(this.#eventWaiters.indexOf(waiter), 1);
        reject(new Error(`no "event ${name}" matching ${JSON.stringify(fields)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#eventWaiters.push(waiter);
    });
  }

  /** Forgets the events received so far. */
  clearEvents() {
    this.#events = [];
  }

  close() {
    this.#failure ??= new Error('control client closed');
    this.#socket?.destroy();
  }
}
