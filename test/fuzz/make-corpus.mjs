#!/usr/bin/env node
// Writes the seed corpus of every fuzz target (test/fuzz/corpus/<target>/seed-*): a handful of
// small, valid inputs in each target's format (see the comment at the top of
// test/fuzz/<target>.cc), from which libFuzzer mutates. Deterministic; run it again after
// changing a format and commit the result. Inputs that once crashed a target are kept next to
// the seeds as crash-* files (written by hand, never by this script) and replayed on every run.
//
//   node test/fuzz/make-corpus.mjs [--out DIR] [TARGET...]   (DIR default: test/fuzz/corpus)
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// ---- bytes ---------------------------------------------------------------------------------

const u8 = (v) => Buffer.from([v & 0xff]);
const u16 = (v) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u64 = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
  return b;
};
const cat = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
const utf16 = (s) => Buffer.from(s, 'utf16le');
const fill = (n, byte = 0x41) => Buffer.alloc(n, byte);

// ---- wire.h ----------------------------------------------------------------------------------

const T = {
  HELLO: 1, HELLO_RESULT: 2, CONNECT: 10, CONNECT_RESULT: 11, GET: 12, GET_COMPLETE: 13, CANCEL: 14,
  REPLY: 15, REPLY_RESULT: 16, SEND: 17, SEND_RESULT: 18, MS_CREATE: 30, MS_OPEN: 31, MS_OPEN_RESULT: 32,
  MS_READ: 33, MS_READ_COMPLETE: 34, MS_WRITE: 35, MS_WRITE_RESULT: 36, MS_QUERY: 37, MS_QUERY_RESULT: 38,
  MS_SET: 39, MS_SET_RESULT: 40, CONTROL: 60, CONTROL_RESULT: 61, CONTROL_EVENT: 62,
};
const KIND = { PORT: 1, MAILSLOT: 2, CONTROL: 3 };
const NT = { SUCCESS: 0, CANCELLED: 0xc0000120, BUFFER_TOO_SMALL: 0xc0000023, PORT_DISCONNECTED: 0xc0000037, IO_TIMEOUT: 0xc00000b5 };
const MAGIC = 0x4d495346;
const CANCEL_ALL = 0xffffffffffffffffn;
const REPLY_TAG = 1n << 40n;
const SEND_TAG = 2n << 40n;
const REQUEST_TAG = 1n << 40n; // mailslot Info/SetReadTimeout

const frame = (type, tag, ...body) => {
  const b = cat(...body);
  return cat(u32(16 + b.length), u16(type), u16(0), u64(tag), b);
};
const completion = (status, information, bytes = Buffer.alloc(0)) => cat(u32(status), u32(information), bytes);
const statusBody = (status) => cat(u32(status), u32(0));
// FILTER_MESSAGE_HEADER {ReplyLength, pad, MessageId} + payload.
const message = (replyLength, id, payload) => cat(u32(replyLength), u32(0), u64(id), payload);
const hello = (kind, pid = 4242) => frame(T.HELLO, 0, u32(MAGIC), u16(1), u16(kind), u32(pid), u32(0));

// ---- seeds per target --------------------------------------------------------------------------

const seeds = {
  // settings byte (chunk - 1, max_frame choice), then a stream from the host.
  posix_frame_reader: () => {
    const stream = cat(
      frame(T.HELLO_RESULT, 0, statusBody(0)),
      frame(T.GET_COMPLETE, 1, completion(0, 20, message(0, 1, 'ping'))),
      frame(T.REPLY_RESULT, REPLY_TAG, statusBody(0)),
      frame(T.SEND_RESULT, SEND_TAG, completion(0, 3, Buffer.from('out'))),
      frame(T.MS_QUERY_RESULT, REQUEST_TAG, u32(0), u32(0), u32(0), u32(0xffffffff), u32(0), u32(0), u64(-1)),
      frame(T.CONTROL_RESULT, 1, 'ok count=0'),
    );
    return {
      'seed-host-frames-whole': cat(u8(0x3f), stream),
      'seed-host-frames-bytewise': cat(u8(0x00), stream),
      'seed-connect-name-context': cat(u8(0x07), frame(T.CONNECT, 1, u32(0), u16(8), u16(3), utf16('\\Fz1'), 'ctx')),
      'seed-ms-create': cat(u8(0x45), frame(T.MS_CREATE, 1, u32(0), u32(0), u64(-1), u16(6), u16(0), u16(0), u16(0), utf16('\\ab'))),
      'seed-oversized-length': cat(u8(0x80), u32(0x10000), u16(T.MS_WRITE), u16(0), u64(1)),
    };
  },

  // options (4 bytes), then ops: 0 host writes, 1 reply, 2 send, 3 consumed, 4 close.
  posix_port_backend: () => {
    const options = cat(u8(1), u8(6), u8(4), u8(1)); // 2 receives of 64 bytes, up to 320, mark 2
    const write = (...frames) => {
      const b = cat(...frames);
      return cat(u8(0), u16(b.length), b);
    };
    const reply = (status, len) => cat(u8(1), u32(status), u8(len));
    const send = (inLen, cap, nulls = 0) => cat(u8(2), u8(inLen), u16(cap), u8(nulls));
    return {
      'seed-message-reply-send': cat(
        options,
        write(frame(T.GET_COMPLETE, 1, completion(0, 20, message(24, 1, 'ping')))),
        reply(0, 4),
        write(frame(T.REPLY_RESULT, REPLY_TAG, statusBody(0))),
        send(4, 8),
        write(frame(T.SEND_RESULT, SEND_TAG, completion(0, 4, Buffer.from('pong')))),
        cat(u8(3), u8(1)),
      ),
      'seed-grow-then-deliver': cat(
        options,
        write(frame(T.GET_COMPLETE, 2, completion(NT.BUFFER_TOO_SMALL, 200))),
        write(frame(T.GET_COMPLETE, 2, completion(0, 200, message(0, 7, fill(184))))),
        write(frame(T.GET_COMPLETE, 1, completion(NT.BUFFER_TOO_SMALL, 4000))),
      ),
      'seed-disconnect-drain': cat(
        options,
        reply(0, 0),
        write(frame(T.GET_COMPLETE, 1, completion(NT.PORT_DISCONNECTED, 0))),
        write(frame(T.GET_COMPLETE, 2, completion(NT.PORT_DISCONNECTED, 0))),
        write(frame(T.REPLY_RESULT, REPLY_TAG, statusBody(0xc0000037))),
      ),
      'seed-close-cancel': cat(
        options,
        u8(4),
        write(frame(T.GET_COMPLETE, 1, completion(NT.CANCELLED, 0)), frame(T.GET_COMPLETE, 2, completion(NT.CANCELLED, 0))),
      ),
      'seed-send-overflow': cat(
        cat(u8(0), u8(0), u8(0), u8(0)),
        send(0, 2, 1),
        write(frame(T.SEND_RESULT, SEND_TAG, completion(0x80000005, 2, Buffer.from('ab')))),
      ),
    };
  },

  // options byte-free ops: 0 host writes, 1 read, 2 info, 3 set timeout, 4 close.
  posix_mailslot_backend: () => {
    const write = (...frames) => {
      const b = cat(...frames);
      return cat(u8(0), u16(b.length), b);
    };
    const read = (max) => cat(u8(1), u16(max));
    const info = () => cat(
      u8(2),
      write(frame(T.MS_QUERY_RESULT, REQUEST_TAG, u32(0), u32(400), u32(0), u32(5), u32(1), u32(0), u64(-1))),
    );
    return {
      'seed-read-two-messages': cat(
        read(16), read(16),
        write(frame(T.MS_READ_COMPLETE, 1, completion(0, 5, Buffer.from('hello'))), frame(T.MS_READ_COMPLETE, 2, completion(0, 0))),
      ),
      'seed-too-small-then-timeout': cat(
        read(4), read(4),
        write(frame(T.MS_READ_COMPLETE, 1, completion(NT.BUFFER_TOO_SMALL, 9)), frame(T.MS_READ_COMPLETE, 2, completion(NT.IO_TIMEOUT, 0))),
      ),
      'seed-info-and-set': cat(
        info(),
        u8(3), u32(250),
        write(frame(T.MS_SET_RESULT, REQUEST_TAG + 1n, statusBody(0))),
      ),
      'seed-close-cancels': cat(
        read(64), u8(4),
        write(frame(T.MS_READ_COMPLETE, 1, completion(NT.CANCELLED, 0))),
      ),
    };
  },

  // ops: 0 message (total:u16 + bytes), 1 read, 2 reply, 3 fault, 4 size check.
  core_message_batch: () => {
    const msg = (m) => cat(u8(0), u16(m.length), m);
    const rd = (ok, bytes) => cat(u8(1), u8(ok), u16(bytes.length), bytes);
    return {
      'seed-messages-and-reads': cat(msg(message(24, 1, 'abc')), rd(1, Buffer.from('xyz12')), msg(message(0, 2, '')), u8(2), u8(3), u32(70000)),
      'seed-short-message': cat(msg(fill(15)), rd(0, Buffer.alloc(0))),
      'seed-size-checks': cat(u8(4), u64(0x80000000), u8(4), u64(0x7ffffff9), u8(4), u64(0)),
    };
  },

  // decoder byte (0 filters, 1 instances, 2 volumes), then one buffer as FilterFind* returns it.
  win_filter_info_decoder: () => {
    // Entries laid out at the documented offsets; strings follow the fixed part.
    const entry = (fixed, fields, strings) => {
      let b = Buffer.alloc(fixed);
      for (const [at, bytes] of fields) bytes.copy(b, at);
      for (const [lengthAt, offsetAt, text] of strings) {
        const s = utf16(text);
        b.writeUInt16LE(s.length, lengthAt);
        b.writeUInt16LE(b.length, offsetAt);
        b = cat(b, s);
      }
      return cat(b, Buffer.alloc((8 - (b.length % 8)) % 8));
    };
    const chain = (...entries) =>
      cat(...entries.map((e, i) => {
        const c = Buffer.from(e);
        if (i + 1 < entries.length) c.writeUInt32LE(c.length, 0);
        return c;
      }));
    const mini = (name, altitude) => entry(28, [[4, u32(1)], [12, u32(0)], [16, u32(1)]], [[20, 22, name], [24, 26, altitude]]);
    const legacy = (name) => entry(20, [[4, u32(2)]], [[12, 14, name], [16, 18, '']]);
    const instance = (name) =>
      entry(36, [[4, u32(1)], [16, u32(2)]], [[20, 22, name], [24, 26, '385100'], [28, 30, '\\Device\\HarddiskVolume1'], [32, 34, 'fltport']]);
    const volume = (name) => {
      const s = utf16(name);
      const b = cat(u32(0), u32(0), u32(0), u32(2), u16(s.length), s);
      return cat(b, Buffer.alloc((8 - (b.length % 8)) % 8));
    };
    return {
      'seed-filters': cat(u8(0), chain(mini('fltport', '385100'), legacy('Legacy'))),
      'seed-instances': cat(u8(1), chain(instance('fltport Instance'), instance('second'))),
      'seed-volumes': cat(u8(2), chain(volume('\\Device\\HarddiskVolume1'), volume('\\Device\\Mup'))),
    };
  },

  // bytes, read as UTF-8 and as UTF-16LE.
  posix_text_codec: () => ({
    'seed-ascii': Buffer.from('\\\\.\\mailslot\\fltport'),
    'seed-utf8-all-lengths': Buffer.from('aé€😀', 'utf8'),
    'seed-ill-formed-utf8': Buffer.from([0xc0, 0x80, 0xe0, 0x80, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xff, 0x41]),
    'seed-utf16-surrogates': cat(utf16('a😀'), u16(0xd800), u16(0x41), u16(0xdc00)),
  }),

  // call byte (0 filters, 1 instances, 2 volumes, 3 attach, 4 dos name, 5 load), answer text.
  posix_control_reply: () => ({
    'seed-filters': cat(u8(0), 'ok count=2 name.0=fltport altitude.0=385100 instances.0=1 frame.0=0 legacy.0=0 name.1=%E2%82%AC altitude.1=1 instances.1=0x0 frame.1=0 legacy.1=1'),
    'seed-instances': cat(u8(1), 'ok count=1 name.0=fltport%20Instance altitude.0=385100 volume.0=%5CDevice%5CHarddiskVolume1 filter.0=fltport frame.0=0 fstype.0=2 detach.0=1'),
    'seed-volumes': cat(u8(2), 'ok count=1 name.0=%5CDevice%5CMup dos.0= frame.0=0 fstype.0=13'),
    'seed-attach': cat(u8(3), 'ok instance=fltport%20Instance'),
    'seed-dos-name': cat(u8(4), 'ok dos=C:'),
    'seed-error': cat(u8(5), 'error status=0xC01C0013 message=filter%20not%20found'),
  }),

  // ops: 0 stream bytes, 1 close stream, 2 driver sends, 3 driver closes its client port,
  // 4 a live worker pool for the streams opened after it.
  fltsim_session: () => {
    const feed = (stream, ...frames) => {
      const b = cat(...frames);
      return cat(u8(0), u8(stream), u16(b.length), b);
    };
    const connect = (name, context = '') => {
      const n = utf16(name);
      const c = Buffer.from(context);
      return frame(T.CONNECT, 1, u32(0), u16(n.length), u16(c.length), n, c);
    };
    const msName = utf16('\\\\.\\mailslot\\fz');
    return {
      'seed-port-message-reply-send': cat(
        feed(0, hello(KIND.PORT), connect('\\FuzzPort', 'ctx'), frame(T.GET, 2, u32(64), u32(0))),
        u8(2), u8(5), u16(32),
        feed(0, frame(T.REPLY, 9, u32(0), u32(0), u64(1), 'reply'), frame(T.SEND, 10, u32(8), u32(0), 'abcd')),
        feed(0, frame(T.GET, 3, u32(8), u32(0)), frame(T.CANCEL, 11, u64(CANCEL_ALL))),
        u8(1), u8(0),
      ),
      'seed-port-small-buffer': cat(
        feed(1, hello(KIND.PORT), connect('\\FuzzPort'), frame(T.GET, 2, u32(16), u32(0))),
        u8(2), u8(40), u16(0xffff),
        feed(1, frame(T.GET, 3, u32(100), u32(0))),
        u8(3),
      ),
      'seed-mailslot-write-read': cat(
        feed(0, hello(KIND.MAILSLOT), frame(T.MS_CREATE, 1, u32(0), u32(0), u64(-1), u16(msName.length), u16(0), u16(0), u16(0), msName)),
        feed(1, hello(KIND.MAILSLOT), frame(T.MS_OPEN, 1, u16(msName.length), u16(0), u16(0), u16(0), msName), frame(T.MS_WRITE, 2, 'hello')),
        feed(0, frame(T.MS_QUERY, 2), frame(T.MS_READ, 3, u32(4), u32(0)), frame(T.MS_READ, 4, u32(64), u32(0)), frame(T.MS_SET, 5, u64(0))),
        feed(0, frame(T.MS_READ, 6, u32(64), u32(0)), frame(T.CANCEL, 7, u64(CANCEL_ALL))),
      ),
      'seed-control-watch': cat(
        feed(2, hello(KIND.CONTROL), frame(T.CONTROL, 1, 'watch events=port,message'), frame(T.CONTROL, 2, 'ports.list')),
        feed(0, hello(KIND.PORT), connect('\\FuzzPort')),
      ),
      'seed-refused-connect': cat(feed(3, hello(KIND.PORT), connect('\\FuzzPort', Buffer.from([0xff, 1])), connect('\\NoSuchPort'))),
      'seed-live-pool-no-waiting': cat(
        u8(4),
        feed(0, hello(KIND.PORT), connect('\\FuzzPort'), frame(T.GET, 2, u32(64), u32(0)), frame(T.SEND, 3, u32(8), u32(0), 'abcd')),
        u8(2), u8(5), u16(32),
        feed(1, hello(KIND.PORT), connect('\\FuzzPort')),
        u8(1), u8(1),
      ),
    };
  },

  // one control line.
  fltsim_control_text: () => ({
    'seed-send': Buffer.from('send conn=newest size=16 fill=0x41 reply=64 timeout=abs:100 count=2'),
    'seed-port-create': Buffer.from('port.create name=%5CFltportTest notify=status:STATUS_ACCESS_DENIED uids=1000,0 access=0x1F0001'),
    'seed-timeouts': Buffer.from('ms.create name=%5C%5C.%5Cmailslot%5Cx timeout=nt:-10000 other=forever t2=zero t3=250\r\n'),
    'seed-hex-and-names': Buffer.from('driver.config hex=00ff10 name=%E2%82%AC%F0%9F%98%80 bool=yes status=0xC0000022'),
  }),
};

// ---- write ---------------------------------------------------------------------------------

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : join(here, 'corpus');
const only = args;
for (const [target, make] of Object.entries(seeds)) {
  if (only.length > 0 && !only.includes(target)) continue;
  const dir = join(out, target);
  mkdirSync(dir, { recursive: true });
  // Seeds are regenerated; crash-* inputs are kept.
  for (const f of readdirSync(dir)) if (f.startsWith('seed-')) rmSync(join(dir, f));
  const files = make();
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  console.log(`${target}: ${Object.keys(files).length} seeds`);
}
