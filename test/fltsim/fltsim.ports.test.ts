// fltsim-host through its socket: every test vector of spec §9.3 and the rows of the result
// tables for connect (§2.3), FilterGetMessage (§3.3-3.5), FilterReplyMessage (§4.1, §4.3),
// FilterSendMessage (§5.2), FltSendMessage (§6.2, §6.4) and the server side (§7.1, §7.3).
// Each status is asserted as the NTSTATUS on the wire and as the HRESULT a Windows caller
// sees: hresultFromNtStatus for synchronous Filter* results, HRESULT_FROM_WIN32 of the mapped
// Win32 error for overlapped completions (spec §1.3, last paragraph).
import { describe, expect, it } from 'vitest';

import { hresultFromNtStatus, hresultFromWin32, statusEntry } from '../../lib/errors.js';
import type { SimControl } from '../helpers/sim-control.js';
import type { SimHost } from '../helpers/sim-host.js';
import { useSimHost } from '../helpers/sim-file.js';
import { SimPortClient } from '../helpers/sim-wire.js';

/** What GetQueuedCompletionStatus callers see for an overlapped completion with `nt`. */
function completionHresult(nt: number): number {
  const entry = statusEntry(nt);
  if (!entry) throw new Error(`status 0x${nt.toString(16)} is not in the table`);
  return hresultFromWin32(entry.win32);
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

let host: SimHost;
let ctl: SimControl;
let counter = 0;

useSimHost((h, c) => {
  host = h;
  ctl = c;
});

/** A fresh port of the test driver with `args`; returns its name. */
async function port(args: Record<string, string | number> = {}): Promise<string> {
  const name = `\\FltsimPorts${++counter}`;
  await ctl.ok('port.create', { name, ...args });
  return name;
}

/** Connects and returns the client plus the connection id the host assigned. */
async function open(name: string, context?: Uint8Array): Promise<{ client: SimPortClient; conn: string }> {
  const client = await SimPortClient.connect(host.socketPath, name, context ? { context } : {});
  expect(hex(client.status)).toBe(hex(0));
  const event = await ctl.event('connect', { port: name });
  return { client, conn: event.fields['conn'] as string };
}

async function waitConn(conn: string, condition: Record<string, string | number>): Promise<Record<string, string>> {
  return ctl.ok('conn.wait', { id: conn, ...condition });
}

describe('spec §9.3 test vectors', () => {
  it('#1 get(16+1032) pending, send(1032 bytes, cap 1): S_OK, 1048 bytes, ReplyLength 17, MessageId 1', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(16 + 1032);
    await waitConn(conn, { gets: 1 });
    const send = await ctl.ok('send', { conn, size: 1032, fill: 0x41, reply: 1, timeout: 'forever' });
    const done = await get.done;
    expect(hex(done.status)).toBe(hex(0));
    expect(done.information).toBe(1048);
    expect(done.bytes.length).toBe(1048);
    expect(done.replyLength).toBe(17);
    expect(done.messageId).toBe(1n);
    expect(done.payload.equals(Buffer.alloc(1032, 0x41))).toBe(true);
    // #2: reply 17 bytes (status 0, payload 1): sender STATUS_SUCCESS with *ReplyLength 1; reply S_OK.
    const replied = await client.reply(done.messageId, Buffer.from([0x01]));
    expect(hex(replied)).toBe(hex(0));
    expect(hresultFromNtStatus(replied)).toBe(0);
    const outcome = await ctl.event('send', { id: send['first'] as string });
    expect(outcome.fields).toMatchObject({ status: hex(0), replied: '1', reply: '01' });
    client.close();
  });

  it('#1 as written: a 1040-byte get is 8 bytes short of 16 + 1032 and fails with the size needed', async () => {
    // The spec's vector #1 says get(1040); by its own §3.2/§6.3 rule a message of 1032 needs
    // 1048 bytes, so that get completes STATUS_BUFFER_TOO_SMALL with Information 1048.
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(1040);
    await waitConn(conn, { gets: 1 });
    await ctl.ok('send', { conn, size: 1032, reply: 1, timeout: 300 });
    const done = await get.done;
    expect(hex(done.status)).toBe(hex(0xc0000023));
    expect(done.information).toBe(1048);
    expect(hex(completionHresult(done.status))).toBe(hex(0x8007007a));
    client.close();
  });

  it('#3 reply of 24 bytes to cap 1: sender STATUS_BUFFER_OVERFLOW (truncated), reply 0x800700EA', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    const send = await ctl.ok('send', { conn, size: 4, reply: 1, timeout: 'forever' });
    const done = await get.done;
    const r = await client.reply(done.messageId, Buffer.from([7, 1, 2, 3, 4, 5, 6, 7]));
    expect(hex(r)).toBe(hex(0x80000005));
    expect(hex(hresultFromNtStatus(r))).toBe(hex(0x800700ea));
    const outcome = await ctl.event('send', { id: send['first'] as string });
    expect(outcome.fields).toMatchObject({ status: hex(0x80000005), replied: '1', reply: '07' });
    client.close();
  });

  it('#4 send with a -1 s timeout and no get: STATUS_TIMEOUT after about 1 s, not delivered', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const started = Date.now();
    const send = await ctl.ok('send', { conn, size: 8, reply: 4, timeout: 1000 });
    const outcome = await ctl.event('send', { id: send['first'] as string });
    const elapsed = Date.now() - started;
    expect(outcome.fields['status']).toBe(hex(0x102));
    expect(hex(hresultFromNtStatus(0x102))).toBe(hex(0x80070102));
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5000);
    // Nothing was delivered: a get posted now stays pending.
    const info = await ctl.ok('conn', { id: conn });
    expect(info).toMatchObject({ delivered: '0', senders: '0', waiters: '0' });
    client.close();
  });

  it('#4 a reply to the id of a sender that timed out waiting for it: 0x801F0020', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    const send = await ctl.ok('send', { conn, size: 8, reply: 4, timeout: 300 });
    const done = await get.done;
    const outcome = await ctl.event('send', { id: send['first'] as string });
    expect(outcome.fields['status']).toBe(hex(0x102));
    const late = await client.reply(done.messageId, Buffer.from([1, 2, 3, 4]));
    expect(hex(late)).toBe(hex(0xc01c0020));
    expect(hex(hresultFromNtStatus(late))).toBe(hex(0x801f0020));
    client.close();
  });

  it('#5 get(64) pending, send(100): 0x8007007A with InternalHigh 116; sender waits; get(200) delivers', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const small = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    const send = await ctl.ok('send', { conn, size: 100, fill: 0x5a, timeout: 'forever' });
    const failed = await small.done;
    expect(hex(failed.status)).toBe(hex(0xc0000023));
    expect(failed.information).toBe(116);
    expect(failed.bytes.length).toBe(0);
    expect(hex(completionHresult(failed.status))).toBe(hex(0x8007007a));
    await waitConn(conn, { senders: 1, gets: 0 });
    const big = await client.get(200);
    expect(hex(big.status)).toBe(hex(0));
    expect(big.information).toBe(116);
    expect(big.replyLength).toBe(0);
    expect(big.payload.equals(Buffer.alloc(100, 0x5a))).toBe(true);
    expect((await ctl.event('send', { id: send['first'] as string })).fields['status']).toBe(hex(0));
    client.close();
  });

  it('#6 gets of 64 and 200 pending, send(100): the 200-byte get gets it, the 64-byte one stays pending', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const small = client.postGet(64);
    const big = client.postGet(200);
    await waitConn(conn, { gets: 2 });
    await ctl.ok('send', { conn, size: 100, timeout: 'forever' });
    const delivered = await big.done;
    expect(hex(delivered.status)).toBe(hex(0));
    expect(delivered.information).toBe(116);
    const after = await waitConn(conn, { gets: 1 });
    expect(after['gets']).toBe('1');
    client.cancel(small.tag);
    expect(hex((await small.done).status)).toBe(hex(0xc0000120));
    client.close();
  });

  it('#7 CancelIoEx on a pending get: STATUS_CANCELLED, ERROR_OPERATION_ABORTED (995), 0x800703E3', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const a = client.postGet(64);
    const b = client.postGet(64);
    await waitConn(conn, { gets: 2 });
    client.cancel(a.tag);
    const cancelled = await a.done;
    expect(hex(cancelled.status)).toBe(hex(0xc0000120));
    expect(statusEntry(cancelled.status)?.win32).toBe(995);
    expect(hex(completionHresult(cancelled.status))).toBe(hex(0x800703e3));
    await waitConn(conn, { gets: 1 });
    client.cancel('all');
    expect(hex((await b.done).status)).toBe(hex(0xc0000120));
    client.close();
  });

  it('#8 FltCloseClientPort with a blocked sender: sender 0xC0000037; the next get fails 0x80070006', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const send = await ctl.ok('send', { conn, size: 8, reply: 4, timeout: 'forever' });
    await waitConn(conn, { senders: 1 });
    await ctl.ok('conn.close', { conn });
    expect((await ctl.event('send', { id: send['first'] as string })).fields['status']).toBe(hex(0xc0000037));
    const next = await client.get(64);
    expect(hex(next.status)).toBe(hex(0xc0000037));
    expect(hex(hresultFromNtStatus(next.status))).toBe(hex(0x80070006));
    client.close();
  });

  it('#9 a second connect with MaxConnections 1: 0x800704D4 and ConnectNotify is not called', async () => {
    const name = await port({ max: 1 });
    const { client } = await open(name);
    await ctl.event('td-connect', { port: name });
    const second = await SimPortClient.connect(host.socketPath, name);
    expect(hex(second.status)).toBe(hex(0xc0000246));
    expect(hex(hresultFromNtStatus(second.status))).toBe(hex(0x800704d4));
    await ctl.event('connect-refused', { port: name, status: hex(0xc0000246) });
    await ctl.ok('ping');
    expect(ctl.seen('td-connect').filter((e) => e.fields['port'] === name)).toHaveLength(1);
    second.close();
    client.close();
  });

  it('#10 ConnectNotify returning STATUS_INVALID_PARAMETER_3: connect 0x80070057, no DisconnectNotify', async () => {
    const name = await port({ connect: 'reject:STATUS_INVALID_PARAMETER_3' });
    const c = await SimPortClient.connect(host.socketPath, name);
    expect(hex(c.status)).toBe(hex(0xc00000f1));
    expect(hex(hresultFromNtStatus(c.status))).toBe(hex(0x80070057));
    const ev = await ctl.event('connect', { port: name });
    expect(ev.fields['status']).toBe(hex(0xc00000f1));
    c.close();
    await ctl.ok('ping');
    expect(ctl.seen('disconnect').filter((e) => e.fields['port'] === name)).toHaveLength(0);
    // The slot was given back: with max 1, a connect to an accepting port of the same kind works.
    const ports = await ctl.ok('ports');
    const index = Object.entries(ports).find(([k, v]) => k.startsWith('name.') && v === name)?.[0].slice(5);
    expect(ports[`connections.${index}`]).toBe('0');
  });

  it('#11 replying twice: the second reply gets 0x801F0020', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    await ctl.ok('send', { conn, size: 4, reply: 4, timeout: 'forever' });
    const done = await get.done;
    expect(hex(await client.reply(done.messageId, Buffer.from([1])))).toBe(hex(0));
    const again = await client.reply(done.messageId, Buffer.from([1]));
    expect(hex(again)).toBe(hex(0xc01c0020));
    expect(hex(hresultFromNtStatus(again))).toBe(hex(0x801f0020));
    client.close();
  });

  it('#12 send without a reply buffer: ReplyLength 0, MessageId 0; replying gets 0x801F0020', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    const send = await ctl.ok('send', { conn, size: 4, reply: 'none', timeout: 'forever' });
    const done = await get.done;
    expect(done.replyLength).toBe(0);
    expect(done.messageId).toBe(0n);
    expect((await ctl.event('send', { id: send['first'] as string })).fields['status']).toBe(hex(0));
    expect(hex(await client.reply(done.messageId))).toBe(hex(0xc01c0020));
    client.close();
  });
});

describe('§2.3 FilterConnectCommunicationPort results', () => {
  it('passes a copy of the context to ConnectNotify, in the caller process', async () => {
    const name = await port();
    const context = Buffer.from('connect-context-bytes');
    const { client, conn } = await open(name, context);
    const seen = await ctl.event('td-connect', { conn });
    expect(seen.fields).toMatchObject({ size: String(context.length), context: context.toString('hex'), pid: String(process.pid) });
    client.close();
  });

  it('accepts a context of 0xFFE7 bytes and refuses 0xFFE8 with STATUS_INTEGER_OVERFLOW (0x80070216)', async () => {
    const name = await port({ max: 2 });
    const { client } = await open(name, Buffer.alloc(0xffe7, 0x33));
    const refused = await SimPortClient.connect(host.socketPath, name, { context: Buffer.alloc(0xffe8) });
    expect(hex(refused.status)).toBe(hex(0xc0000095));
    expect(hex(hresultFromNtStatus(refused.status))).toBe(hex(0x80070216));
    refused.close();
    client.close();
  });

  it('an unknown name: 0xC0000034 / 0x80070002; names compare case-insensitively', async () => {
    const missing = await SimPortClient.connect(host.socketPath, '\\NoSuchFltsimPort');
    expect(hex(missing.status)).toBe(hex(0xc0000034));
    expect(hex(hresultFromNtStatus(missing.status))).toBe(hex(0x80070002));
    missing.close();
    const name = await port();
    const upper = await SimPortClient.connect(host.socketPath, name.toUpperCase());
    expect(hex(upper.status)).toBe(hex(0));
    upper.close();
  });

  it('a name without the leading backslash: STATUS_OBJECT_NAME_NOT_FOUND by default', async () => {
    const name = await port();
    const c = await SimPortClient.connect(host.socketPath, name.slice(1));
    expect(hex(c.status)).toBe(hex(0xc0000034));
    c.close();
  });

  it('ConnectNotify failures propagate as §1.3 translates them', async () => {
    const cases: Array<[string, number, number]> = [
      ['STATUS_ACCESS_DENIED', 0xc0000022, 0x80070005],
      ['STATUS_PRIVILEGE_NOT_HELD', 0xc0000061, 0x80070522],
      ['STATUS_INSUFFICIENT_RESOURCES', 0xc000009a, 0x800705aa],
      ['STATUS_CONNECTION_REFUSED', 0xc0000236, 0x800704c9],
    ];
    for (const [status, nt, hr] of cases) {
      const name = await port({ connect: `reject:${status}` });
      const c = await SimPortClient.connect(host.socketPath, name);
      expect(hex(c.status)).toBe(hex(nt));
      expect(hex(hresultFromNtStatus(c.status))).toBe(hex(hr));
      c.close();
    }
  });

  it('the connection slot frees only after DisconnectNotify returns, then a reconnect succeeds', async () => {
    const name = await port({ max: 1 });
    const first = await open(name);
    first.client.close();
    await ctl.event('td-disconnect', { conn: first.conn });
    await waitConn(first.conn, { state: 'disconnected', slot: 0 });
    const again = await open(name);
    again.client.close();
  });
});

describe('§3.3-3.5 FilterGetMessage', () => {
  it('a get on a connection the driver closed fails at once with 0xC0000037 (0x80070006)', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    await ctl.ok('conn.close', { conn });
    const r = await client.get(64);
    expect(hex(r.status)).toBe(hex(0xc0000037));
    expect(hex(hresultFromNtStatus(r.status))).toBe(hex(0x80070006));
    client.close();
  });

  it('pending gets complete with STATUS_PORT_DISCONNECTED when the driver closes the client port', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const gets = [client.postGet(64), client.postGet(64), client.postGet(64)];
    await waitConn(conn, { gets: 3 });
    await ctl.ok('conn.close', { conn });
    for (const g of gets) {
      const r = await g.done;
      expect(hex(r.status)).toBe(hex(0xc0000037));
      expect(statusEntry(r.status)?.win32).toBe(6);
      expect(hex(completionHresult(r.status))).toBe(hex(0x80070006));
    }
    client.close();
  });

  it('serves pending gets in FIFO order', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const gets = [client.postGet(64), client.postGet(64), client.postGet(64)];
    await waitConn(conn, { gets: 3 });
    await ctl.ok('send', { conn, size: 4, seq: 1, timeout: 'forever', count: 3 });
    const done = await Promise.all(gets.map((g) => g.done));
    expect(done.map((d) => d.payload.readUInt32LE(0))).toEqual([0, 1, 2]);
    expect(done.map((d) => d.messageId)).toEqual([0n, 0n, 0n]);
    client.close();
  });

  it('assigns reply-expecting messages ids 1, 2, 3 in delivery order', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const gets = [client.postGet(64), client.postGet(64), client.postGet(64)];
    await waitConn(conn, { gets: 3 });
    const send = await ctl.ok('send', { conn, size: 4, reply: 4, timeout: 'forever', count: 3, concurrency: 3 });
    const done = await Promise.all(gets.map((g) => g.done));
    expect(done.map((d) => d.messageId)).toEqual([1n, 2n, 3n]);
    for (const d of done) expect(hex(await client.reply(d.messageId))).toBe(hex(0));
    for (let i = 0; i < 3; i++) {
      expect((await ctl.event('send', { id: String(Number(send['first']) + i) })).fields['status']).toBe(hex(0));
    }
    client.close();
  });
});

describe('§4.1, §4.3 FilterReplyMessage', () => {
  async function delivered(cap: number): Promise<{ client: SimPortClient; id: bigint; send: string }> {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    const send = await ctl.ok('send', { conn, size: 4, reply: cap, timeout: 'forever' });
    const d = await get.done;
    expect(d.replyLength).toBe(cap + 16);
    return { client, id: d.messageId, send: send['first'] as string };
  }

  it('a buffer under 16 bytes: STATUS_INVALID_PARAMETER (E_INVALIDARG), nothing delivered', async () => {
    const { client, id, send } = await delivered(4);
    const r = await client.replyRaw(Buffer.alloc(15));
    expect(hex(r)).toBe(hex(0xc000000d));
    expect(hex(hresultFromNtStatus(r))).toBe(hex(0x80070057));
    // The waiter is still there: a proper reply now succeeds.
    expect(hex(await client.reply(id, Buffer.from([9, 8])))).toBe(hex(0));
    expect((await ctl.event('send', { id: send })).fields).toMatchObject({ status: hex(0), replied: '2', reply: '0908' });
    client.close();
  });

  it('16 <= size <= 16 + cap: payload copied, FltSendMessage returns the reply header Status', async () => {
    const { client, id, send } = await delivered(4);
    expect(hex(await client.reply(id, Buffer.from([1, 2, 3, 4]), 0xc0000022))).toBe(hex(0));
    expect((await ctl.event('send', { id: send })).fields).toMatchObject({ status: hex(0xc0000022), replied: '4', reply: '01020304' });
    client.close();
  });

  it('a header-only reply: *ReplyLength 0 and the header Status', async () => {
    const { client, id, send } = await delivered(4);
    expect(hex(await client.reply(id, new Uint8Array(0), 0x102))).toBe(hex(0));
    expect((await ctl.event('send', { id: send })).fields).toMatchObject({ status: hex(0x102), replied: '0' });
    client.close();
  });

  it('an unknown id and an id from another connection: 0x801F0020', async () => {
    const { client, id, send } = await delivered(4);
    expect(hex(await client.reply(id + 1000n))).toBe(hex(0xc01c0020));
    const other = await open(await port());
    expect(hex(await other.client.reply(id))).toBe(hex(0xc01c0020));
    expect(hex(await client.reply(id))).toBe(hex(0));
    await ctl.event('send', { id: send });
    other.client.close();
    client.close();
  });

  it('a reply after the driver closed the connection: 0xC0000037 (0x80070006) by default', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    await ctl.ok('send', { conn, size: 4, reply: 4, timeout: 'forever' });
    const d = await get.done;
    await ctl.ok('conn.close', { conn });
    const r = await client.reply(d.messageId);
    expect(hex(r)).toBe(hex(0xc0000037));
    expect(hex(hresultFromNtStatus(r))).toBe(hex(0x80070006));
    client.close();
  });
});

describe('§5.2 FilterSendMessage', () => {
  it('runs MessageNotify with the caller buffers and returns its byte count (echo)', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const r = await client.send(Buffer.from('hello'), 16);
    expect(hex(r.status)).toBe(hex(0));
    expect(r.information).toBe(5);
    expect(r.bytes.toString()).toBe('hello');
    const ev = await ctl.event('message', { conn });
    expect(ev.fields).toMatchObject({ size: '5', in: Buffer.from('hello').toString('hex'), cap: '16', returned: '5' });
    client.close();
  });

  it('NULL buffers reach the driver as NULL with length 0', async () => {
    const name = await port();
    const { client } = await open(name);
    const r = await client.send(null, 0);
    expect(hex(r.status)).toBe(hex(0));
    expect(r.information).toBe(0);
    client.close();
  });

  it('propagates MessageNotify statuses (translated per §1.3)', async () => {
    const cases: Array<[string, number, number]> = [
      ['STATUS_NO_MORE_ENTRIES', 0x8000001a, 0x80070103],
      ['STATUS_INVALID_PARAMETER', 0xc000000d, 0x80070057],
      ['STATUS_DATATYPE_MISALIGNMENT', 0x80000002, 0x800703e6],
      ['STATUS_BUFFER_TOO_SMALL', 0xc0000023, 0x8007007a],
      ['STATUS_NOT_FOUND', 0xc0000225, 0x80070490],
      ['STATUS_TIMEOUT', 0x00000102, 0x80070102],
      ['0xC01C000B', 0xc01c000b, 0x801f000b],
    ];
    for (const [status, nt, hr] of cases) {
      const name = await port({ notify: `status:${status}` });
      const { client } = await open(name);
      const r = await client.send(Buffer.from([1]), 8);
      expect(hex(r.status)).toBe(hex(nt));
      expect(hex(hresultFromNtStatus(r.status))).toBe(hex(hr));
      client.close();
    }
  });

  it('a port without MessageNotify: STATUS_NOT_SUPPORTED (0x80070032) by default', async () => {
    const name = await port({ notify: 'none' });
    const { client } = await open(name);
    const r = await client.send(Buffer.from([1]), 8);
    expect(hex(r.status)).toBe(hex(0xc00000bb));
    expect(hex(hresultFromNtStatus(r.status))).toBe(hex(0x80070032));
    client.close();
  });

  it('a driver reporting more bytes than the output buffer holds is clamped (and logged)', async () => {
    const name = await port({ notify: 'bytes:64' });
    const { client } = await open(name);
    const r = await client.send(Buffer.from([1]), 8);
    expect(hex(r.status)).toBe(hex(0));
    expect(r.information).toBe(8);
    expect([...r.bytes]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await host.waitForLog(/DRIVER BUG: MessageNotify of port .* set \*ReturnOutputBufferLength = 64 but OutputBufferLength is 8; clamped to 8/);
    client.close();
  });

  it('a send on a connection the driver closed: 0xC0000037 (0x80070006)', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    await ctl.ok('conn.close', { conn });
    const r = await client.send(Buffer.from([1]), 8);
    expect(hex(r.status)).toBe(hex(0xc0000037));
    expect(hex(hresultFromNtStatus(r.status))).toBe(hex(0x80070006));
    client.close();
  });

  it('concurrent sends on one handle run concurrently; a blocked MessageNotify stalls nobody else', async () => {
    const slow = await port({ notify: 'block:400' });
    const fast = await port();
    const a = await open(slow);
    const b = await open(fast);
    const started = Date.now();
    const four = Promise.all([0, 1, 2, 3].map((i) => a.client.send(Buffer.from([i]), 4)));
    // While four callbacks sleep on the slow port, the other connection is served at once.
    const quick = await b.client.send(Buffer.from([9]), 4);
    expect(Date.now() - started).toBeLessThan(300);
    expect([...quick.bytes]).toEqual([9]);
    const results = await four;
    const elapsed = Date.now() - started;
    expect(results.map((r) => [...r.bytes])).toEqual([[0], [1], [2], [3]]);
    // Serial execution would take 1600 ms.
    expect(elapsed).toBeLessThan(1200);
    a.client.close();
    b.client.close();
  });
});

describe('§6.2, §6.4 FltSendMessage', () => {
  it('an absolute timeout (positive system time) expires at that time', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const started = Date.now();
    const send = await ctl.ok('send', { conn, size: 4, timeout: 'abs:400' });
    expect((await ctl.event('send', { id: send['first'] as string })).fields['status']).toBe(hex(0x102));
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    client.close();
  });

  it('conn.wait min_gets waits for at least N pending receives', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const gets = [client.postGet(64), client.postGet(64), client.postGet(64)];
    expect((await ctl.ok('conn.wait', { id: conn, min_gets: 2 }))['gets']).toMatch(/^[23]$/);
    expect((await ctl.ok('conn.wait', { id: conn, min_gets: 3 }))['gets']).toBe('3');
    expect(hex(await ctl.fails('conn.wait', { id: conn, min_gets: 4, timeout: 100 }))).toBe(hex(0x102));
    client.cancel('all');
    for (const g of gets) expect((await g.done).status).toBe(0xc0000120);
    client.close();
  });

  it('a zero timeout polls: STATUS_TIMEOUT at once without a pending get; delivered with one', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const first = await ctl.ok('send', { conn, size: 4, timeout: 'zero' });
    expect((await ctl.event('send', { id: first['first'] as string })).fields['status']).toBe(hex(0x102));
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    const second = await ctl.ok('send', { conn, size: 4, timeout: 'zero' });
    expect((await ctl.event('send', { id: second['first'] as string })).fields['status']).toBe(hex(0));
    expect(hex((await get.done).status)).toBe(hex(0));
    client.close();
  });

  it('NULL timeout waits until a get arrives', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const send = await ctl.ok('send', { conn, size: 4, timeout: 'forever' });
    await waitConn(conn, { senders: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(ctl.seen('send').some((e) => e.fields['id'] === send['first'])).toBe(false);
    const got = await client.get(64);
    expect(hex(got.status)).toBe(hex(0));
    expect((await ctl.event('send', { id: send['first'] as string })).fields['status']).toBe(hex(0));
    client.close();
  });

  it('*ClientPort == NULL: STATUS_PORT_DISCONNECTED by default; a stale copy: STATUS_INVALID_HANDLE', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const viaNull = await ctl.ok('send', { conn, size: 4, via: 'null', timeout: 'zero' });
    expect((await ctl.event('send', { id: viaNull['first'] as string })).fields['status']).toBe(hex(0xc0000037));
    await ctl.ok('conn.close', { conn });
    const viaCopy = await ctl.ok('send', { conn, size: 4, via: 'copy', timeout: 'zero' });
    expect((await ctl.event('send', { id: viaCopy['first'] as string })).fields['status']).toBe(hex(0xc0000008));
    const viaVar = await ctl.ok('send', { conn, size: 4, via: 'var', timeout: 'zero' });
    expect((await ctl.event('send', { id: viaVar['first'] as string })).fields['status']).toBe(hex(0xc0000037));
    client.close();
  });

  it('the user closing its handle releases a blocked sender and a reply waiter with 0xC0000037', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    const waiting = await ctl.ok('send', { conn, size: 4, reply: 4, timeout: 'forever' });
    await get.done;
    const blocked = await ctl.ok('send', { conn, size: 4, reply: 4, timeout: 'forever' });
    await waitConn(conn, { senders: 1, waiters: 1 });
    client.close();
    expect((await ctl.event('send', { id: waiting['first'] as string })).fields['status']).toBe(hex(0xc0000037));
    expect((await ctl.event('send', { id: blocked['first'] as string })).fields['status']).toBe(hex(0xc0000037));
    const disc = await ctl.event('td-disconnect', { conn });
    expect(disc.fields['pid']).toBe(String(process.pid));
  });
});

describe('§7.1, §7.3 server side', () => {
  it('FltCreateCommunicationPort argument checks', async () => {
    expect(hex(await ctl.fails('port.create', { name: '\\FltsimNoKernelHandle', kernel_handle: 0 }))).toBe(hex(0xc000000d));
    expect(hex(await ctl.fails('port.create', { name: '\\FltsimMaxZero', max: 0 }))).toBe(hex(0xc000000d));
    expect(hex(await ctl.fails('port.create', { name: '\\FltsimNoConnect', callbacks: 'no-connect' }))).toBe(hex(0xc000000d));
    expect(hex(await ctl.fails('port.create', { name: '\\FltsimNoDisconnect', callbacks: 'no-disconnect' }))).toBe(hex(0xc000000d));
    const name = await port();
    expect(hex(await ctl.fails('port.create', { name: name.toLowerCase() }))).toBe(hex(0xc0000035));
  });

  it('FltCloseCommunicationPort: new connects get 0x80070002, existing connections keep working', async () => {
    const name = await port({ max: 2 });
    const { client, conn } = await open(name);
    await ctl.ok('port.close', { name });
    const late = await SimPortClient.connect(host.socketPath, name);
    expect(hex(late.status)).toBe(hex(0xc0000034));
    expect(hex(hresultFromNtStatus(late.status))).toBe(hex(0x80070002));
    late.close();
    const get = client.postGet(64);
    await waitConn(conn, { gets: 1 });
    await ctl.ok('send', { conn, size: 3, timeout: 'forever' });
    expect(hex((await get.done).status)).toBe(hex(0));
    // The name is free again.
    await ctl.ok('port.create', { name });
    client.close();
  });

  it('DisconnectNotify runs once when the user closes, in the user process', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    client.close();
    const disc = await ctl.event('disconnect', { conn });
    expect(disc.fields['reason']).toBe('user');
    expect((await ctl.event('td-disconnect', { conn })).fields['pid']).toBe(String(process.pid));
    await ctl.event('client-port-closed', { conn });
    await ctl.ok('ping');
    expect(ctl.seen('disconnect').filter((e) => e.fields['conn'] === conn)).toHaveLength(1);
  });

  it('after FltCloseClientPort the user close does not call DisconnectNotify (default)', async () => {
    const name = await port();
    const { client, conn } = await open(name);
    await ctl.ok('conn.close', { conn });
    client.close();
    await ctl.ok('conns');
    await new Promise((r) => setTimeout(r, 100));
    await ctl.ok('ping');
    expect(ctl.seen('disconnect').filter((e) => e.fields['conn'] === conn)).toHaveLength(0);
  });
});
