// Communication ports through the public API. Under Wine this is the Windows addon's real
// code path: FilterConnectCommunicationPort, overlapped FilterGetMessage on its private
// completion port, FilterReplyMessage/FilterSendMessage, CancelIoEx at close, all through
// the test fltlib.dll and Wine's I/O manager to fltsim-host.exe. The simulated driver is
// fltsim's test driver, driven over the control channel (docs/fltsim.md).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import {
  EXPECT,
  TARGET,
  assertFltportError,
  bytesHex,
  createPort,
  deviceStats,
  fltport,
  hex,
  openControl,
  within,
} from './lane.mjs';

const { connect } = fltport;
const T = 15_000; // bound for any single wait in these tests

let control;
before(async () => {
  control = await openControl();
});
after(() => control?.close());

/** Waits until the host reports connection `id` in the given state (conn.wait verb). */
function connWait(id, fields) {
  return control.must('conn.wait', { id, timeout: 10_000, ...fields }, { timeoutMs: T });
}

describe(`ports (${TARGET})`, () => {
  test('connect: ConnectNotify sees the caller and the context', async () => {
    const port = await createPort(control);
    const context = Uint8Array.from([1, 2, 3, 0xfe]);
    const p = await within(T, connect(port.name, { context }), 'connect');
    try {
      const event = await port.connection();
      assert.equal(event.args.size, '4');
      assert.equal(event.args.context, '010203fe');
      // The "current process" inside ConnectNotify is the connecting process (spec §2.2).
      assert.equal(Number(event.args.pid), process.pid);
      assert.equal(p.state, 'open');
    } finally {
      await p.close();
    }
  });

  test('receive and reply: the driver gets the reply bytes and FltSendMessage returns the reply status', async () => {
    const port = await createPort(control);
    const p = await within(T, connect(port.name), 'connect');
    try {
      const { args } = await port.connection();
      const iterator = p.messages()[Symbol.asyncIterator]();

      const sent = await control.must('send', { conn: args.conn, hex: 'a1b2c3d4e5', reply: 8, timeout: 10_000 });
      const first = await within(T, iterator.next(), 'first message');
      const msg = first.value;
      assert.equal(bytesHex(msg.bytes), 'a1b2c3d4e5');
      assert.equal(msg.expectsReply, true);
      assert.equal(msg.replyLength, 8 + 16); // ReplyLength = capacity + FILTER_REPLY_HEADER (spec §3.2)
      assert.equal(msg.replyCapacity, 8);
      assert.equal(msg.id, 1n); // first reply-expecting message of the connection
      await within(T, msg.reply(Uint8Array.from([0x4f, 0x4b])), 'reply');
      const done = await control.waitEvent('send', { id: sent.first });
      assert.equal(done.args.status, EXPECT.replyDelivered.senderStatus);
      assert.equal(done.args.replied, '2');
      assert.equal(done.args.reply, '4f4b');

      // FILTER_REPLY_HEADER.Status is what FltSendMessage returns (spec §4.1).
      const second = await control.must('send', { conn: args.conn, size: 3, fill: 7, reply: 4, timeout: 10_000 });
      const next = await within(T, iterator.next(), 'second message');
      assert.equal(next.value.id, 2n);
      await within(T, next.value.reply(new Uint8Array(0), { status: EXPECT.replyStatusPassThrough.replyStatus }), 'reply');
      const done2 = await control.waitEvent('send', { id: second.first });
      assert.equal(done2.args.status, EXPECT.replyStatusPassThrough.senderStatus);

      // A one-way message: ReplyLength 0, nothing to answer.
      await control.must('send', { conn: args.conn, hex: '00ff', reply: 'none', timeout: 10_000 });
      const oneWay = await within(T, iterator.next(), 'one-way message');
      assert.equal(oneWay.value.expectsReply, false);
      assert.equal(oneWay.value.replyLength, 0);
      assert.equal(bytesHex(oneWay.value.bytes), '00ff');
      await iterator.return?.();
    } finally {
      await p.close();
    }
  });

  test('reply after the driver timed out: 0x801F0020, and the sender saw STATUS_TIMEOUT', async () => {
    const port = await createPort(control);
    const p = await within(T, connect(port.name), 'connect');
    try {
      const { args } = await port.connection();
      const iterator = p.messages()[Symbol.asyncIterator]();
      const sent = await control.must('send', { conn: args.conn, size: 8, reply: 4, timeout: 300 });
      const { value: msg } = await within(T, iterator.next(), 'message');
      const gaveUp = await control.waitEvent('send', { id: sent.first });
      assert.equal(gaveUp.args.status, EXPECT.lateReply.senderStatus);
      const error = await msg.reply(new Uint8Array(4)).then(
        () => assert.fail('a late reply resolved'),
        (e) => e,
      );
      assertFltportError(error, EXPECT.lateReply, 'late reply');
      assert.equal(error.messageId, msg.id);
      assert.equal(p.stats().lateReplies, 1);
      await iterator.return?.();
    } finally {
      await p.close();
    }
  });

  test('a message larger than the receive buffer: the buffer grows and the message arrives whole', async () => {
    const port = await createPort(control);
    // Receive buffers start at 4 KiB (docs/api.md): 20 000 bytes do not fit, the kernel
    // completes a receive with STATUS_BUFFER_TOO_SMALL and the required size, keeps the
    // message, and the re-posted larger receive gets it (spec §3.4).
    const faults = [];
    const p = await within(T, connect(port.name, { maxMessageSize: 65536, onFault: (e) => faults.push(e) }), 'connect');
    try {
      const { args } = await port.connection();
      const iterator = p.messages()[Symbol.asyncIterator]();
      const sent = await control.must('send', { conn: args.conn, size: 20000, fill: 0x5a, seq: 1, reply: 'none', timeout: 10_000 });
      const { value: msg } = await within(T, iterator.next(), 'large message');
      assert.equal(msg.bytes.length, 20000);
      assert.equal(msg.bytes[0], 0); // seq=1: the first 4 bytes are the send index (0)
      assert.equal(msg.bytes[19999], 0x5a);
      const done = await control.waitEvent('send', { id: sent.first });
      assert.equal(done.args.status, '0x00000000');
      assert.deepEqual(faults, []);
      await iterator.return?.();
    } finally {
      await p.close();
    }
  });

  test('a message larger than maxMessageSize: a MessageTooLargeError fault, the sender times out', async () => {
    const port = await createPort(control);
    const faults = [];
    const p = await within(T, connect(port.name, { maxMessageSize: 8192, onFault: (e) => faults.push(e) }), 'connect');
    try {
      const { args } = await port.connection();
      const iterator = p.messages()[Symbol.asyncIterator]();
      const pending = iterator.next();
      const sent = await control.must('send', { conn: args.conn, size: 10000, reply: 'none', timeout: 1000 });
      const done = await control.waitEvent('send', { id: sent.first });
      assert.equal(done.args.status, '0x00000102'); // STATUS_TIMEOUT: the message stayed with its sender
      assert.ok(faults.length >= 1, 'no fault reported');
      assertFltportError(faults[0], EXPECT.messageTooLarge, 'fault');
      assert.equal(faults[0].size, 10000); // payload bytes (the kernel reported 10016 with the header)
      assert.equal(faults[0].maxMessageSize, 8192);
      // The port still works.
      await control.must('send', { conn: args.conn, hex: '0102', reply: 'none', timeout: 10_000 });
      const { value: msg } = await within(T, pending, 'message after the fault');
      assert.equal(bytesHex(msg.bytes), '0102');
      await iterator.return?.();
    } finally {
      await p.close();
    }
  });

  test('send: FilterSendMessage runs MessageNotify and returns its output', async () => {
    const port = await createPort(control); // notify=echo: output = input
    const p = await within(T, connect(port.name), 'connect');
    try {
      const reply = await within(T, p.send(Uint8Array.from([9, 8, 7, 6, 5]), { replyCapacity: 64 }), 'send');
      assert.equal(bytesHex(reply), '0908070605');
      const event = await control.waitEvent('message', { in: '0908070605' });
      assert.equal(event.args.cap, '64');
      assert.equal(event.args.returned, '5');
      assert.equal(p.stats().sent, 1);
    } finally {
      await p.close();
    }
  });

  test('send: the driver status comes back typed (STATUS_NO_MORE_ENTRIES gives 0x80070103)', async () => {
    const port = await createPort(control, { notify: `status:${hex(EXPECT.sendNoMoreEntries.ntstatus)}` });
    const p = await within(T, connect(port.name), 'connect');
    try {
      const error = await p.send(Uint8Array.from([1]), { replyCapacity: 4 }).then(
        () => assert.fail('send resolved'),
        (e) => e,
      );
      assertFltportError(error, EXPECT.sendNoMoreEntries, 'send');
    } finally {
      await p.close();
    }
  });

  test('close with receives pending: every receive is cancelled, the iterator ends, nothing leaks', async () => {
    const port = await createPort(control);
    const p = await within(T, connect(port.name, { concurrency: 4 }), 'connect');
    const { args } = await port.connection();
    const iterator = p.messages()[Symbol.asyncIterator]();
    const next = iterator.next();
    // Four FilterGetMessage requests pending in the "kernel".
    const before = await connWait(args.conn, { state: 'connected', gets: 4 });
    assert.equal(before.gets, '4');
    await within(T, p.close(), 'close');
    const end = await within(T, next, 'iterator end');
    assert.equal(end.done, true);
    assert.equal((await within(T, p.closed, 'closed')).reason, 'closed');
    // The handle is closed: DisconnectNotify ran, no request is left pending, the slot is free.
    const gone = await connWait(args.conn, { state: 'disconnected', gets: 0, slot: 0 });
    assert.equal(gone.user_closed, '1');
    await control.waitEvent('td-disconnect', { conn: args.conn });
    // Under Wine: the device saw the handle close and holds no request any more.
    const device = await deviceStats(control);
    if (device) assert.deepEqual(device, { streams: 0, irps: 0 });
    // The slot is free again: a new connection succeeds (MaxConnections 1).
    const again = await within(T, connect(port.name), 'reconnect');
    await again.close();
  });

  test('a process killed with receives pending leaves no connection, handle or request behind', async () => {
    const port = await createPort(control);
    const fixture = fileURLToPath(new URL('./fixtures/hold-port.mjs', import.meta.url));
    const child = spawn(process.execPath, [fixture, port.name], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      const { args } = await port.connection();
      assert.equal(Number(args.pid), child.pid);
      await connWait(args.conn, { state: 'connected', gets: 4 });
      child.kill(); // TerminateProcess: no close(), no CancelIoEx from the addon
      await within(T, exited, 'child exit');
      await control.waitEvent('td-disconnect', { conn: args.conn });
      const gone = await connWait(args.conn, { state: 'disconnected', gets: 0, slot: 0 });
      assert.equal(gone.user_closed, '1');
      const device = await deviceStats(control);
      if (device) assert.deepEqual(device, { streams: 0, irps: 0 });
    } finally {
      child.kill();
    }
  });

  test('200 messages from 4 sender threads: each delivered once, each answered with its own reply', async (t) => {
    const port = await createPort(control);
    const p = await within(T, connect(port.name, { concurrency: 8 }), 'connect');
    try {
      const { args } = await port.connection();
      const count = 200;
      const t0 = performance.now();
      const sent = await control.must('send', {
        conn: args.conn, size: 64, fill: 0xee, seq: 1, reply: 4, count, concurrency: 4, timeout: 20_000,
      });
      const first = Number(sent.first);
      const seen = new Set();
      const ids = new Set();
      let n = 0;
      for await (const msg of p) {
        assert.equal(msg.bytes.length, 64);
        const seq = Buffer.from(msg.bytes).readUInt32LE(0);
        assert.ok(seq < count && !seen.has(seq), `sequence ${seq} delivered twice or out of range`);
        assert.ok(!ids.has(msg.id), `MessageId ${msg.id} seen twice`);
        seen.add(seq);
        ids.add(msg.id);
        await msg.reply(msg.bytes.subarray(0, 4));
        if (++n === count) break;
      }
      for (let i = 0; i < count; i++) {
        const done = await control.waitEvent('send', { id: first + i });
        assert.equal(done.args.status, '0x00000000', `send ${i}`);
        const reply = Buffer.alloc(4);
        reply.writeUInt32LE(i);
        assert.equal(done.args.reply, reply.toString('hex'), `send ${i} got another message's reply`);
      }
      const perMessage = (performance.now() - t0) / count;
      t.diagnostic(`${TARGET}: ${count} messages with replies, ${perMessage.toFixed(3)} ms per message`);
      assert.equal(p.stats().replied, count);
    } finally {
      await p.close();
    }
  });

  test('the driver closes the client port: the iterator throws DisconnectedError 0x80070006', async () => {
    const port = await createPort(control);
    const p = await within(T, connect(port.name, { concurrency: 2 }), 'connect');
    try {
      const { args } = await port.connection();
      // The outcome is taken at once: a rejection nobody handles yet would fail the test.
      const consumed = (async () => {
        for await (const _ of p) {
          // no messages are sent in this test
        }
      })().then(
        () => assert.fail('the iterator ended without an error'),
        (e) => e,
      );
      await connWait(args.conn, { gets: 2 });
      await control.must('conn.close', { conn: args.conn });
      const error = await within(T, consumed, 'iterator');
      assertFltportError(error, EXPECT.disconnected, 'iterator');
      assert.equal(error.reason, 'disconnected');
      const closed = await within(T, p.closed, 'closed');
      assert.equal(closed.reason, 'disconnected');
      assert.equal(p.state, 'disconnected');
    } finally {
      await p.close();
    }
  });

  test('connection limit: a second connect fails with 0x800704D4', async () => {
    const port = await createPort(control, { max: 1 });
    const first = await within(T, connect(port.name), 'connect');
    try {
      const error = await connect(port.name).then(
        (p) => p.close().then(() => assert.fail('second connect succeeded')),
        (e) => e,
      );
      assertFltportError(error, EXPECT.connectionLimit, 'second connect');
    } finally {
      await first.close();
    }
  });

  test('ConnectNotify failure: its status reaches the caller (STATUS_ACCESS_DENIED gives 0x80070005)', async () => {
    const port = await createPort(control, { connect: `reject:${hex(EXPECT.connectRejected.ntstatus)}` });
    const error = await connect(port.name).then(
      (p) => p.close().then(() => assert.fail('connect succeeded')),
      (e) => e,
    );
    assertFltportError(error, EXPECT.connectRejected, 'connect');
  });

  test('port not found: 0x80070002', async () => {
    const error = await connect('\\WineLaneNoSuchPort').then(
      (p) => p.close().then(() => assert.fail('connect succeeded')),
      (e) => e,
    );
    assertFltportError(error, EXPECT.portNotFound, 'connect');
    assert.equal(error.portName, '\\WineLaneNoSuchPort');
  });

  test('afterwards: no connection of this process is left, no request pending anywhere', async () => {
    // `conns` lists the connections something still references (freed ones are gone, which
    // is the point). Handles closed by the last tests may still be on their way to
    // DisconnectNotify: poll.
    const leftovers = async () => {
      const list = await control.must('conns');
      const left = [];
      for (let i = 0; i < Number(list.count); i++) {
        if (Number(list[`pid.${i}`]) !== process.pid) continue;
        if (list[`state.${i}`] !== 'disconnected' || list[`gets.${i}`] !== '0' || list[`waiters.${i}`] !== '0') {
          left.push(`connection ${list[`id.${i}`]} on ${list[`port.${i}`]}: state ${list[`state.${i}`]}, ` +
            `${list[`gets.${i}`]} receives, ${list[`waiters.${i}`]} reply waiters`);
        }
      }
      const device = await deviceStats(control);
      if (device && (device.streams !== 0 || device.irps !== 0)) {
        left.push(`device: ${device.streams} handles, ${device.irps} requests`);
      }
      return left;
    };
    let left = await leftovers();
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = await leftovers();
    }
    assert.deepEqual(left, []);
  });
});
