// Every UNCONFIRMED point of spec/port-semantics.md is a named fltsim option (docs/fltsim.md):
// the default is the spec's recommendation, the alternative is one `option` away. Each test
// switches one option, asserts the alternative behaviour exactly, and switches it back.
import { afterEach, describe, expect, it } from 'vitest';

import { hresultFromNtStatus } from '../../lib/errors.js';
import { SimControl } from '../helpers/sim-control.js';
import { SimHost } from '../helpers/sim-host.js';
import { useSimHost } from '../helpers/sim-file.js';
import { SimMailslotClient, SimPortClient } from '../helpers/sim-wire.js';

const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

const DEFAULTS: Record<string, string> = {
  disconnect_status: '0xC0000037',
  zero_timeout: 'poll',
  relative_timeout_scope: 'phase',
  one_way_message_id: 'zero',
  first_message_id: '1',
  no_message_notify_status: '0xC00000BB',
  reply_after_disconnect_status: '0xC0000037',
  null_client_port_status: '0xC0000037',
  disconnect_notify_after_close_client_port: 'false',
  small_get_buffer: 'xp',
  missing_backslash_status: '0xC0000034',
  connect_access: '0x001F0001',
  ms_oversize_write_status: '0xC000000D',
  ms_small_read: 'keep',
  ms_write_after_close_status: '0xC0000008',
  max_pending_requests: '65536',
};

let host: SimHost;
let ctl: SimControl;
let counter = 0;

useSimHost((h, c) => {
  host = h;
  ctl = c;
});

afterEach(async () => {
  for (const [name, value] of Object.entries(DEFAULTS)) await ctl.ok('option', { name, value });
});

async function setOption(name: string, value: string): Promise<void> {
  expect(await ctl.ok('option', { name, value })).toMatchObject({ name });
}

async function open(args: Record<string, string | number> = {}): Promise<{ name: string; client: SimPortClient; conn: string }> {
  const name = `\\FltsimOptions${++counter}`;
  await ctl.ok('port.create', { name, ...args });
  const client = await SimPortClient.connect(host.socketPath, name);
  expect(hex(client.status)).toBe(hex(0));
  const conn = (await ctl.event('connect', { port: name })).fields['conn'] as string;
  return { name, client, conn };
}

async function sendOutcome(args: Record<string, string | number>): Promise<Record<string, string>> {
  const r = await ctl.ok('send', args);
  return (await ctl.event('send', { id: r['first'] as string })).fields;
}

describe('the option table', () => {
  it('lists every option with the spec-recommended default', async () => {
    expect(await ctl.ok('options')).toEqual(DEFAULTS);
  });

  it('takes options from --option and FLTSIM_OPTIONS at start-up', async () => {
    const other = await SimHost.start({
      options: { zero_timeout: 'infinite' },
      env: { FLTSIM_OPTIONS: 'one_way_message_id=fresh,disconnect_status=STATUS_CANCELLED' },
    });
    const c = await SimControl.open(other.socketPath);
    expect(await c.ok('options')).toMatchObject({
      zero_timeout: 'infinite',
      one_way_message_id: 'fresh',
      disconnect_status: '0xC0000120',
    });
    c.close();
    await other.stop();
  });

  it('rejects unknown options and values', async () => {
    expect(hex(await ctl.fails('option', { name: 'no_such_option', value: '1' }))).toBe(hex(0xc000000d));
    expect(hex(await ctl.fails('option', { name: 'first_message_id', value: '0' }))).toBe(hex(0xc000000d));
  });
});

describe('port options', () => {
  it('disconnect_status: pending and later gets complete with the chosen status', async () => {
    await setOption('disconnect_status', 'STATUS_CANCELLED');
    const { client, conn } = await open();
    const get = client.postGet(64);
    await ctl.ok('conn.wait', { id: conn, gets: 1 });
    await ctl.ok('conn.close', { conn });
    expect(hex((await get.done).status)).toBe(hex(0xc0000120));
    expect(hex((await client.get(64)).status)).toBe(hex(0xc0000120));
    client.close();
  });

  it('no_message_notify_status=STATUS_INVALID_DEVICE_REQUEST: 0x80070001', async () => {
    await setOption('no_message_notify_status', 'STATUS_INVALID_DEVICE_REQUEST');
    const { client } = await open({ notify: 'none' });
    const r = await client.send(Buffer.from([1]), 4);
    expect(hex(r.status)).toBe(hex(0xc0000010));
    expect(hex(hresultFromNtStatus(r.status))).toBe(hex(0x80070001));
    client.close();
  });

  it('reply_after_disconnect_status=STATUS_FLT_NO_WAITER_FOR_REPLY: 0x801F0020', async () => {
    await setOption('reply_after_disconnect_status', 'STATUS_FLT_NO_WAITER_FOR_REPLY');
    const { client, conn } = await open();
    const get = client.postGet(64);
    await ctl.ok('conn.wait', { id: conn, gets: 1 });
    await ctl.ok('send', { conn, size: 1, reply: 1, timeout: 'forever' });
    const d = await get.done;
    await ctl.ok('conn.close', { conn });
    const r = await client.reply(d.messageId);
    expect(hex(hresultFromNtStatus(r))).toBe(hex(0x801f0020));
    client.close();
  });

  it('zero_timeout=infinite: a zero timeout waits for a get like NULL does', async () => {
    await setOption('zero_timeout', 'infinite');
    const { client, conn } = await open();
    const r = await ctl.ok('send', { conn, size: 2, timeout: 'zero' });
    await ctl.ok('conn.wait', { id: conn, senders: 1 });
    await new Promise((res) => setTimeout(res, 200));
    expect(ctl.seen('send').some((e) => e.fields['id'] === r['first'])).toBe(false);
    expect((await client.get(64)).status).toBe(0);
    expect((await ctl.event('send', { id: r['first'] as string })).fields['status']).toBe(hex(0));
    client.close();
  });

  it.each([
    ['phase', 700, 1500],
    ['total', 400, 650],
  ])('relative_timeout_scope=%s: a 400 ms timeout with delivery after 300 ms expires after about %i ms', async (scope, min, max) => {
    await setOption('relative_timeout_scope', scope);
    const { client, conn } = await open();
    const started = Date.now();
    const r = await ctl.ok('send', { conn, size: 2, reply: 2, timeout: 400 });
    await new Promise((res) => setTimeout(res, 300));
    expect((await client.get(64)).status).toBe(0);
    const outcome = await ctl.event('send', { id: r['first'] as string });
    const elapsed = Date.now() - started;
    expect(outcome.fields['status']).toBe(hex(0x102));
    expect(elapsed).toBeGreaterThanOrEqual(min - 30);
    expect(elapsed).toBeLessThan(max);
    client.close();
  });

  it('one_way_message_id=fresh and first_message_id: one-way messages take ids too', async () => {
    await setOption('one_way_message_id', 'fresh');
    await setOption('first_message_id', '100');
    const { client, conn } = await open();
    const gets = [client.postGet(32), client.postGet(32)];
    await ctl.ok('conn.wait', { id: conn, gets: 2 });
    await ctl.ok('send', { conn, size: 1, count: 2, timeout: 'forever' });
    const done = await Promise.all(gets.map((g) => g.done));
    expect(done.map((d) => [d.messageId, d.replyLength])).toEqual([
      [100n, 0],
      [101n, 0],
    ]);
    // Still no waiter: one-way messages cannot be replied to.
    expect(hex(await client.reply(100n))).toBe(hex(0xc01c0020));
    client.close();
  });

  it('null_client_port_status=STATUS_INVALID_HANDLE', async () => {
    await setOption('null_client_port_status', 'STATUS_INVALID_HANDLE');
    const { client, conn } = await open();
    expect((await sendOutcome({ conn, size: 1, via: 'null', timeout: 'zero' }))['status']).toBe(hex(0xc0000008));
    client.close();
  });

  it('disconnect_notify_after_close_client_port=true: the later user close calls DisconnectNotify once; the slot waits for it', async () => {
    await setOption('disconnect_notify_after_close_client_port', 'true');
    const { name, client, conn } = await open({ max: 1 });
    await ctl.ok('conn.close', { conn });
    expect(await ctl.ok('conn', { id: conn })).toMatchObject({ state: 'disconnected', slot: '1' });
    const blocked = await SimPortClient.connect(host.socketPath, name);
    expect(hex(blocked.status)).toBe(hex(0xc0000246));
    blocked.close();
    client.close();
    expect((await ctl.event('disconnect', { conn })).fields['reason']).toBe('user-after-close-client-port');
    await ctl.ok('conn.wait', { id: conn, slot: 0 });
    const again = await SimPortClient.connect(host.socketPath, name);
    expect(again.status).toBe(0);
    again.close();
  });

  it('small_get_buffer: xp keeps a 8-byte get pending; reject fails it at once', async () => {
    const { client, conn } = await open();
    const xp = client.postGet(8);
    await ctl.ok('conn.wait', { id: conn, gets: 1 });
    await ctl.ok('send', { conn, size: 0, timeout: 'forever' });
    const tooSmall = await xp.done;
    expect([hex(tooSmall.status), tooSmall.information]).toEqual([hex(0xc0000023), 16]);
    await setOption('small_get_buffer', 'reject');
    expect(hex((await client.get(8)).status)).toBe(hex(0xc000000d));
    expect((await client.get(16)).information).toBe(16);
    client.close();
  });

  it('missing_backslash_status=STATUS_OBJECT_PATH_SYNTAX_BAD: 0x800700A1', async () => {
    await setOption('missing_backslash_status', 'STATUS_OBJECT_PATH_SYNTAX_BAD');
    const { name, client } = await open();
    const c = await SimPortClient.connect(host.socketPath, name.slice(1));
    expect(hex(c.status)).toBe(hex(0xc000003b));
    expect(hex(hresultFromNtStatus(c.status))).toBe(hex(0x800700a1));
    c.close();
    client.close();
  });

  it('max_pending_requests bounds the gets one handle may post', async () => {
    await setOption('max_pending_requests', '2');
    const { client, conn } = await open();
    const gets = [client.postGet(16), client.postGet(16)];
    await ctl.ok('conn.wait', { id: conn, gets: 2 });
    expect(hex((await client.get(16)).status)).toBe(hex(0xc000009a));
    client.cancel('all');
    for (const g of gets) expect((await g.done).status).toBe(0xc0000120);
    client.close();
  });
});

describe('mailslot options', () => {
  it('ms_small_read=truncate: copies what fits and drops the rest (ReactOS msfs)', async () => {
    await setOption('ms_small_read', 'truncate');
    const name = `\\\\.\\mailslot\\fltsim_opt_${++counter}`;
    const s = await SimMailslotClient.create(host.socketPath, name);
    const w = await SimMailslotClient.open(host.socketPath, name);
    await w.write(Buffer.from('0123456789'));
    const r = await s.read(4);
    expect([hex(r.status), r.information, r.bytes.toString()]).toEqual([hex(0), 4, '0123']);
    expect((await s.query()).count).toBe(0);
    s.close();
    w.close();
  });

  it('ms_oversize_write_status and ms_write_after_close_status', async () => {
    await setOption('ms_oversize_write_status', 'STATUS_BUFFER_TOO_SMALL');
    await setOption('ms_write_after_close_status', 'STATUS_OBJECT_NAME_NOT_FOUND');
    const name = `\\\\.\\mailslot\\fltsim_opt_${++counter}`;
    const s = await SimMailslotClient.create(host.socketPath, name, { maxMessageSize: 2 });
    const w = await SimMailslotClient.open(host.socketPath, name);
    expect(hex((await w.write(Buffer.alloc(3))).status)).toBe(hex(0xc0000023));
    s.close();
    await s.stream.closed();
    await ctl.ok('ping');
    expect(hex((await w.write(Buffer.alloc(1))).status)).toBe(hex(0xc0000034));
    w.close();
  });
});
