// Mailslots through fltsim-host (spec §10.3-10.4): user-created servers read over the wire
// (what native/posix's MailslotServer does), kernel-created ones read by the test driver with
// ZwReadFile/FltReadFile, one namespace for Win32 and NT names. Statuses are asserted as the
// NTSTATUS on the wire and as the Win32 error / HRESULT a Windows caller would see.
import { describe, expect, it } from 'vitest';

import { hresultFromNtStatus, hresultFromWin32, statusEntry } from '../../lib/errors.js';
import type { SimControl } from '../helpers/sim-control.js';
import type { SimHost } from '../helpers/sim-host.js';
import { useSimHost } from '../helpers/sim-file.js';
import { SimMailslotClient } from '../helpers/sim-wire.js';

const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
const win32 = (nt: number): number | undefined => statusEntry(nt)?.win32;

let host: SimHost;
let ctl: SimControl;
let counter = 0;

useSimHost((h, c) => {
  host = h;
  ctl = c;
});

function slotName(): string {
  return `fltsim_ms_${++counter}`;
}

async function server(
  name: string,
  options: { maxMessageSize?: number; readTimeout?: bigint } = {},
): Promise<SimMailslotClient> {
  const s = await SimMailslotClient.create(host.socketPath, `\\\\.\\mailslot\\${name}`, options);
  expect(hex(s.status)).toBe(hex(0));
  return s;
}

async function writer(name: string): Promise<SimMailslotClient> {
  const w = await SimMailslotClient.open(host.socketPath, `\\\\.\\mailslot\\${name}`);
  expect(hex(w.status)).toBe(hex(0));
  return w;
}

describe('§10.3 user mailslots', () => {
  it('delivers whole messages in FIFO order, zero-length ones included', async () => {
    const name = slotName();
    const s = await server(name);
    const w = await writer(name);
    for (const m of ['first', '', 'third message']) {
      const r = await w.write(Buffer.from(m));
      expect(hex(r.status)).toBe(hex(0));
      expect(r.information).toBe(m.length);
    }
    const info = await s.query();
    expect(info).toMatchObject({ status: 0, count: 3, nextSize: 5 });
    for (const m of ['first', '', 'third message']) {
      const r = await s.read(64);
      expect(hex(r.status)).toBe(hex(0));
      expect(r.information).toBe(m.length);
      expect(r.bytes.toString()).toBe(m);
    }
    expect((await s.query()).nextSize).toBe(0xffffffff);
    s.close();
    w.close();
  });

  it('read timeout 0 on an empty mailslot fails at once: STATUS_IO_TIMEOUT, ERROR_SEM_TIMEOUT (121)', async () => {
    const s = await server(slotName(), { readTimeout: 0n });
    const r = await s.read(16);
    expect(hex(r.status)).toBe(hex(0xc00000b5));
    expect(win32(r.status)).toBe(121);
    expect(hex(hresultFromWin32(win32(r.status) ?? 0))).toBe(hex(0x80070079));
    s.close();
  });

  it('a relative read timeout blocks about that long, then STATUS_IO_TIMEOUT', async () => {
    const s = await server(slotName(), { readTimeout: -300n * 10000n });
    const started = Date.now();
    const r = await s.read(16);
    expect(hex(r.status)).toBe(hex(0xc00000b5));
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    s.close();
  });

  it.each([
    ['-1', -1n],
    ['INT64_MAX', 0x7fffffffffffffffn],
  ])('read timeout %s waits forever: the read completes when a message arrives', async (_label, timeout) => {
    const name = slotName();
    const s = await server(name, { readTimeout: timeout });
    const read = s.postRead(64);
    await new Promise((r) => setTimeout(r, 150));
    const w = await writer(name);
    await w.write(Buffer.from('late'));
    const r = await read.done;
    expect(hex(r.status)).toBe(hex(0));
    expect(r.bytes.toString()).toBe('late');
    s.close();
    w.close();
  });

  it('a read into a too-small buffer: STATUS_BUFFER_TOO_SMALL (122), and the message is kept', async () => {
    const name = slotName();
    const s = await server(name);
    const w = await writer(name);
    await w.write(Buffer.alloc(40, 7));
    const small = await s.read(10);
    expect(hex(small.status)).toBe(hex(0xc0000023));
    expect(win32(small.status)).toBe(122);
    expect(small.bytes.length).toBe(0);
    expect(await s.query()).toMatchObject({ count: 1, nextSize: 40 });
    const big = await s.read(40);
    expect(hex(big.status)).toBe(hex(0));
    expect(big.bytes.equals(Buffer.alloc(40, 7))).toBe(true);
    s.close();
    w.close();
  });

  it('a second server with the same name (any spelling): STATUS_OBJECT_NAME_COLLISION (183, 0x800700B7)', async () => {
    const name = slotName();
    const s = await server(name);
    for (const spelling of [`\\\\.\\MAILSLOT\\${name.toUpperCase()}`, `\\Device\\Mailslot\\${name}`, `\\??\\mailslot\\${name}`]) {
      const again = await SimMailslotClient.create(host.socketPath, spelling);
      expect(hex(again.status)).toBe(hex(0xc0000035));
      expect(win32(again.status)).toBe(183);
      expect(hex(hresultFromNtStatus(again.status))).toBe(hex(0x800700b7));
      again.close();
    }
    s.close();
  });

  it('Win32 and NT names reach the same mailslot', async () => {
    const name = slotName();
    const s = await SimMailslotClient.create(host.socketPath, `\\Device\\Mailslot\\${name}`);
    expect(hex(s.status)).toBe(hex(0));
    const w = await SimMailslotClient.open(host.socketPath, `\\\\.\\mailslot\\${name.toUpperCase()}`);
    expect(hex(w.status)).toBe(hex(0));
    await w.write(Buffer.from('x'));
    expect((await s.read(4)).bytes.toString()).toBe('x');
    s.close();
    w.close();
  });

  it('opening a mailslot nobody created: STATUS_OBJECT_NAME_NOT_FOUND (ERROR_FILE_NOT_FOUND)', async () => {
    const w = await SimMailslotClient.open(host.socketPath, `\\\\.\\mailslot\\${slotName()}`);
    expect(hex(w.status)).toBe(hex(0xc0000034));
    expect(win32(w.status)).toBe(2);
    w.close();
  });

  it('malformed names: STATUS_OBJECT_NAME_INVALID (ERROR_INVALID_NAME 123)', async () => {
    for (const bad of ['mailslot_without_prefix', '\\\\.\\mailslot\\', '\\\\.\\pipe\\x']) {
      const s = await SimMailslotClient.create(host.socketPath, bad);
      expect(hex(s.status)).toBe(hex(0xc0000033));
      expect(win32(s.status)).toBe(123);
      s.close();
    }
  });

  it('a write larger than MaximumMessageSize fails (STATUS_INVALID_PARAMETER by default)', async () => {
    const name = slotName();
    const s = await server(name, { maxMessageSize: 8 });
    const w = await writer(name);
    expect(hex((await w.write(Buffer.alloc(8))).status)).toBe(hex(0));
    const r = await w.write(Buffer.alloc(9));
    expect(hex(r.status)).toBe(hex(0xc000000d));
    expect(r.information).toBe(0);
    expect((await s.query()).count).toBe(1);
    s.close();
    w.close();
  });

  it('closing the server drops unread messages, cancels reads, frees the name; later writes fail', async () => {
    const name = slotName();
    const s = await server(name);
    const w = await writer(name);
    await w.write(Buffer.from('unread'));
    s.close();
    await s.stream.closed();
    await ctl.ok('ping');
    const r = await w.write(Buffer.from('after'));
    expect(hex(r.status)).toBe(hex(0xc0000008));
    expect((await SimMailslotClient.open(host.socketPath, `\\\\.\\mailslot\\${name}`)).status).toBe(0xc0000034);
    const fresh = await server(name);
    expect((await fresh.query()).count).toBe(0);
    fresh.close();
    w.close();
  });

  it('the server cannot write and a writer cannot read or query: STATUS_ACCESS_DENIED', async () => {
    const name = slotName();
    const s = await server(name);
    const w = await writer(name);
    expect(hex((await s.write(Buffer.from('x'))).status)).toBe(hex(0xc0000022));
    expect(hex((await w.read(8)).status)).toBe(hex(0xc0000022));
    expect(hex((await w.query()).status)).toBe(hex(0xc0000022));
    s.close();
    w.close();
  });

  it('GetMailslotInfo and SetMailslotInfo', async () => {
    const s = await server(slotName(), { maxMessageSize: 0xffffffff, readTimeout: 0n });
    expect(await s.query()).toMatchObject({ status: 0, maxMessageSize: 0xffffffff, nextSize: 0xffffffff, count: 0, readTimeout: 0n });
    expect(hex(await s.setReadTimeout(-1n))).toBe(hex(0));
    expect((await s.query()).readTimeout).toBe(-1n);
    const read = s.postRead(8);
    await new Promise((r) => setTimeout(r, 100));
    s.cancel(read.tag);
    const r = await read.done;
    expect(hex(r.status)).toBe(hex(0xc0000120));
    expect(win32(r.status)).toBe(995);
    s.close();
  });
});

describe('§10.2 kernel mailslots (FltCreateMailslotFile, ZwReadFile/FltReadFile)', () => {
  it('user writers, driver reader: whole messages with ZwReadFile and FltReadFile', async () => {
    const name = slotName();
    const created = await ctl.ok('ms.create', { name: `\\Device\\Mailslot\\${name}`, timeout: 'forever' });
    expect(created['information']).toBe('2'); // FILE_CREATED
    const w = await writer(name);
    await w.write(Buffer.from('one'));
    await w.write(Buffer.from('two!'));
    const q = await ctl.ok('ms.query', { ms: created['ms'] as string });
    expect(q).toMatchObject({ count: '2', next: '3', timeout: '-1' });
    const first = await ctl.ok('ms.read', { ms: created['ms'] as string, size: 16 });
    expect((await ctl.event('ms.read', { read: first['read'] as string })).fields).toMatchObject({ status: hex(0), bytes: '3', data: Buffer.from('one').toString('hex') });
    const second = await ctl.ok('ms.read', { ms: created['ms'] as string, size: 16, via: 'flt' });
    expect((await ctl.event('ms.read', { read: second['read'] as string })).fields).toMatchObject({ status: hex(0), bytes: '4', data: Buffer.from('two!').toString('hex') });
    await ctl.ok('ms.close', { ms: created['ms'] as string });
    w.close();
  });

  it('a blocked driver read completes when a user writes', async () => {
    const name = slotName();
    const created = await ctl.ok('ms.create', { name: `\\??\\mailslot\\${name}`, timeout: 'forever' });
    const read = await ctl.ok('ms.read', { ms: created['ms'] as string, size: 16 });
    await new Promise((r) => setTimeout(r, 100));
    expect(ctl.seen('ms.read').some((e) => e.fields['read'] === read['read'])).toBe(false);
    await ctl.ok('ms.write', { name: `\\\\.\\mailslot\\${name}`, hex: 'abcdef' });
    expect((await ctl.event('ms.read', { read: read['read'] as string })).fields).toMatchObject({ status: hex(0), data: 'abcdef' });
    await ctl.ok('ms.close', { ms: created['ms'] as string });
  });

  it('driver reads: timeout 0 -> STATUS_IO_TIMEOUT at once; too small -> STATUS_BUFFER_TOO_SMALL, kept', async () => {
    const name = slotName();
    const created = await ctl.ok('ms.create', { name: `\\Device\\Mailslot\\${name}`, timeout: 'zero' });
    const ms = created['ms'] as string;
    const empty = await ctl.ok('ms.read', { ms, size: 8 });
    expect((await ctl.event('ms.read', { read: empty['read'] as string })).fields).toMatchObject({ status: hex(0xc00000b5), bytes: '0' });
    await ctl.ok('ms.write', { name: `\\\\.\\mailslot\\${name}`, size: 20, fill: 1 });
    const small = await ctl.ok('ms.read', { ms, size: 8 });
    expect((await ctl.event('ms.read', { read: small['read'] as string })).fields).toMatchObject({ status: hex(0xc0000023), bytes: '0' });
    expect(await ctl.ok('ms.query', { ms })).toMatchObject({ count: '1', next: '20' });
    await ctl.ok('ms.set', { ms, timeout: 250 });
    expect((await ctl.ok('ms.query', { ms }))['timeout']).toBe(String(-250n * 10000n));
    await ctl.ok('ms.close', { ms });
  });

  it('a relative name: STATUS_OBJECT_PATH_SYNTAX_BAD; a taken name: STATUS_OBJECT_NAME_COLLISION', async () => {
    expect(hex(await ctl.fails('ms.create', { name: 'relative' }))).toBe(hex(0xc000003b));
    const name = slotName();
    const s = await server(name);
    expect(hex(await ctl.fails('ms.create', { name: `\\Device\\Mailslot\\${name}` }))).toBe(hex(0xc0000035));
    s.close();
  });

  it('the kernel server lives until both the handle and the file object are released', async () => {
    const name = slotName();
    const created = await ctl.ok('ms.create', { name: `\\Device\\Mailslot\\${name}` });
    const ms = created['ms'] as string;
    await ctl.ok('ms.close', { ms, what: 'handle' });
    expect((await ctl.ok('ms.info', { name: `\\\\.\\mailslot\\${name}` }))['kernel']).toBe('1');
    await ctl.ok('ms.close', { ms, what: 'object' });
    expect(hex(await ctl.fails('ms.info', { name: `\\\\.\\mailslot\\${name}` }))).toBe(hex(0xc0000034));
  });

  it('closing the kernel server releases a blocked driver read with STATUS_CANCELLED', async () => {
    const name = slotName();
    const created = await ctl.ok('ms.create', { name: `\\Device\\Mailslot\\${name}`, timeout: 'forever', object: 0 });
    const ms = created['ms'] as string;
    const read = await ctl.ok('ms.read', { ms, size: 8, via: 'zw' });
    await new Promise((r) => setTimeout(r, 100));
    await ctl.ok('ms.close', { ms });
    expect((await ctl.event('ms.read', { read: read['read'] as string })).fields['status']).toBe(hex(0xc0000120));
  });
});
