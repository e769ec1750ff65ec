// fltsim-host as a program: start-up ("ready <socket>", socket mode, one live host per
// runtime directory, stale sockets replaced), clean exit on SIGTERM/SIGINT, malformed frames
// dropping only their own stream, and unload (spec §7.3: DisconnectNotify for every
// connection, FLT_DELETING_OBJECT while the filter is torn down).
import { lstatSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { SimControl } from '../helpers/sim-control.js';
import { SimHost, simHostBinary } from '../helpers/sim-host.js';
import { useSimHost } from '../helpers/sim-file.js';
import { FrameType, SimPortClient, SimStream, StreamKind, WIRE_MAGIC, encodeFrame } from '../helpers/sim-wire.js';

const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

describe('start-up and exit', () => {
  it('prints ready with a 0777 socket, exits 0 on SIGTERM and removes the socket', async () => {
    const host = await SimHost.start();
    const st = lstatSync(host.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o777);
    const exit = await host.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(host.socketPath)).toBe(false);
  });

  it('exits 0 on SIGINT, unloading the driver first (DisconnectNotify for a live connection)', async () => {
    const host = await SimHost.start({ logLevel: 'debug' });
    const ctl = await SimControl.open(host.socketPath);
    await ctl.ok('port.create', { name: '\\FltsimExit' });
    const c = await SimPortClient.connect(host.socketPath, '\\FltsimExit');
    expect(c.status).toBe(0);
    const exit = await host.stop('SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    await host.waitForLog('stopping');
    expect(existsSync(host.socketPath)).toBe(false);
    c.close();
    ctl.close();
  });

  it('refuses to start while another live host owns the socket, and the first keeps serving', async () => {
    const first = await SimHost.start();
    const r = spawnSync(simHostBinary(), ['--runtime-dir', first.runtimeDir], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`another fltsim-host is listening on ${first.socketPath}`);
    const ctl = await SimControl.open(first.socketPath);
    expect((await ctl.command('ping')).ok).toBe(true);
    ctl.close();
    await first.stop();
  });

  it('replaces the stale socket of a host that died', async () => {
    const dead = await SimHost.start();
    dead.child.kill('SIGKILL');
    await dead.exited;
    expect(existsSync(dead.socketPath)).toBe(true);
    const next = await SimHost.start({ runtimeDir: dead.runtimeDir });
    await next.waitForLog(`replacing stale socket ${dead.socketPath}`);
    const ctl = await SimControl.open(next.socketPath);
    expect((await ctl.command('ping')).ok).toBe(true);
    ctl.close();
    await next.stop();
    await dead.stop();
  });

  it('rejects unknown arguments and bad options before listening', () => {
    const r = spawnSync(simHostBinary(), ['--option', 'zero_timeout=sometimes'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("invalid value 'sometimes' for option zero_timeout");
  });
});

describe('malformed frames drop their stream only', () => {
  let host: SimHost;
  let ctl: SimControl;

  useSimHost(async (h, c) => {
    host = h;
    ctl = c;
    await ctl.ok('port.create', { name: '\\FltsimWire', max: 64 });
  });

  function hello(kind: number, magic = WIRE_MAGIC, version = 1): Buffer {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(magic, 0);
    b.writeUInt16LE(version, 4);
    b.writeUInt16LE(kind, 6);
    b.writeUInt32LE(process.pid, 8);
    return b;
  }

  function header(length: number, type: number, flags = 0): Buffer {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(length, 0);
    b.writeUInt16LE(type, 4);
    b.writeUInt16LE(flags, 6);
    b.writeBigUInt64LE(1n, 8);
    return b;
  }

  // Connects and takes this connection's `connect` event (connects here are sequential).
  async function connectedWithId(): Promise<{ client: SimPortClient; conn: string }> {
    const client = await SimPortClient.connect(host.socketPath, '\\FltsimWire');
    expect(client.status).toBe(0);
    const conn = (await ctl.event('connect', { port: '\\FltsimWire' })).fields['conn'] as string;
    return { client, conn };
  }

  async function connected(): Promise<SimPortClient> {
    return (await connectedWithId()).client;
  }

  const cases: Array<[string, () => Promise<SimStream>, RegExp]> = [
    ['Length below the header size', async () => {
      const s = await SimStream.raw(host.socketPath);
      s.write(header(8, FrameType.HELLO));
      return s;
    }, /frame Length 8 is smaller than the 16-byte header/],
    ['Length above FLTSIM_MAX_FRAME', async () => {
      const s = await SimStream.raw(host.socketPath);
      s.write(header(16 * 1024 * 1024 + 1, FrameType.HELLO));
      return s;
    }, /exceeds FLTSIM_MAX_FRAME/],
    ['non-zero Flags', async () => {
      const s = await SimStream.raw(host.socketPath);
      s.write(encodeFrame(FrameType.HELLO, 1n, hello(StreamKind.PORT), 4));
      return s;
    }, /frame Flags 4 is not 0/],
    ['a first frame that is not HELLO', async () => {
      const s = await SimStream.raw(host.socketPath);
      s.write(encodeFrame(FrameType.GET, 1n, Buffer.alloc(8)));
      return s;
    }, /first frame is type 12, not HELLO/],
    ['a HELLO with the wrong magic', async () => {
      const s = await SimStream.raw(host.socketPath);
      s.write(encodeFrame(FrameType.HELLO, 1n, hello(StreamKind.PORT, 0x12345678)));
      return s;
    }, /HELLO magic is not FLTSIM_WIRE_MAGIC/],
    ['a HELLO of an unknown kind', async () => {
      const s = await SimStream.raw(host.socketPath);
      s.write(encodeFrame(FrameType.HELLO, 1n, hello(9)));
      return s;
    }, /HELLO kind 9 is unknown/],
    ['a short HELLO body', async () => {
      const s = await SimStream.raw(host.socketPath);
      s.write(encodeFrame(FrameType.HELLO, 1n, Buffer.alloc(12)));
      return s;
    }, /HELLO body is 12 bytes, expected 16/],
    ['CONNECT parts that do not add up', async () => {
      const s = await SimStream.open(host.socketPath, StreamKind.PORT);
      const body = Buffer.alloc(8 + 4);
      body.writeUInt16LE(4, 4);
      body.writeUInt16LE(10, 6);
      s.send(FrameType.CONNECT, 2n, body);
      return s;
    }, /CONNECT parts \(8 \+ 4 \+ 10\) do not add up to the body size 12/],
    ['a CONNECT name with an odd byte count', async () => {
      const s = await SimStream.open(host.socketPath, StreamKind.PORT);
      const body = Buffer.alloc(8 + 3);
      body.writeUInt16LE(3, 4);
      s.send(FrameType.CONNECT, 2n, body);
      return s;
    }, /CONNECT NameBytes 3 is odd/],
    ['a GET before CONNECT', async () => {
      const s = await SimStream.open(host.socketPath, StreamKind.PORT);
      s.send(FrameType.GET, 2n, Buffer.alloc(8));
      return s;
    }, /GET before a successful CONNECT/],
    ['a GET body of the wrong size', async () => {
      const c = await connected();
      c.stream.send(FrameType.GET, 9n, Buffer.alloc(4));
      return c.stream;
    }, /GET body is 4 bytes, expected 8/],
    ['a SEND that says NULL input but carries bytes', async () => {
      const c = await connected();
      const body = Buffer.alloc(8 + 2);
      body.writeUInt32LE(1, 4);
      c.stream.send(FrameType.SEND, 9n, body);
      return c.stream;
    }, /SEND says lpInBuffer was NULL but carries input bytes/],
    ['SEND flags with unknown bits', async () => {
      const c = await connected();
      const body = Buffer.alloc(8);
      body.writeUInt32LE(0x10, 4);
      c.stream.send(FrameType.SEND, 9n, body);
      return c.stream;
    }, /SEND Flags has unknown bits/],
    ['an unknown frame type', async () => {
      const c = await connected();
      c.stream.send(99, 9n, Buffer.alloc(0));
      return c.stream;
    }, /frame type 99 is not valid on a port stream/],
    ['a mailslot frame on a port stream', async () => {
      const c = await connected();
      c.stream.send(FrameType.MS_WRITE, 9n, Buffer.alloc(1));
      return c.stream;
    }, /frame type 35 is not valid on a port stream/],
    ['a second CONNECT', async () => {
      const c = await connected();
      const name = Buffer.from('\\FltsimWire', 'utf16le');
      const body = Buffer.alloc(8 + name.length);
      body.writeUInt16LE(name.length, 4);
      name.copy(body, 8);
      c.stream.send(FrameType.CONNECT, 9n, body);
      return c.stream;
    }, /CONNECT on a stream that is already connected or connecting/],
    ['an MS_CREATE name that does not match its body', async () => {
      const s = await SimStream.open(host.socketPath, StreamKind.MAILSLOT);
      const body = Buffer.alloc(24 + 6);
      body.writeUInt16LE(8, 16);
      s.send(FrameType.MS_CREATE, 2n, body);
      return s;
    }, /MS_CREATE NameBytes 8 is odd or does not match the body size 30/],
    ['MS_READ before MS_CREATE', async () => {
      const s = await SimStream.open(host.socketPath, StreamKind.MAILSLOT);
      s.send(FrameType.MS_READ, 2n, Buffer.alloc(8));
      return s;
    }, /MS_READ before MS_CREATE/],
    ['a port frame on a control stream', async () => {
      const s = await SimStream.open(host.socketPath, StreamKind.CONTROL);
      s.send(FrameType.GET, 2n, Buffer.alloc(8));
      return s;
    }, /frame type 12 is not valid on a control stream/],
    ['a control line with a NUL byte', async () => {
      const s = await SimStream.open(host.socketPath, StreamKind.CONTROL);
      s.send(FrameType.CONTROL, 2n, Buffer.from('ping\0'));
      return s;
    }, /CONTROL text contains a NUL byte/],
  ];

  it.each(cases)('%s', async (_label, make, reason) => {
    const { client: bystander, conn } = await connectedWithId();
    const pending = bystander.postGet(64);
    const s = await make();
    await s.closed();
    await host.waitForLog(reason);
    // The host and the other streams carry on.
    await ctl.ok('send', { conn, size: 2, timeout: 'forever' });
    expect((await pending.done).status).toBe(0);
    bystander.close();
  });

  it('a frame cut off by the peer closing is logged, not processed', async () => {
    const s = await SimStream.open(host.socketPath, StreamKind.CONTROL);
    s.write(encodeFrame(FrameType.CONTROL, 5n, Buffer.from('ping')).subarray(0, 10));
    s.close();
    await host.waitForLog(/closed in the middle of a frame \(10 bytes\)/);
  });

  it('a HELLO of another wire version is answered with STATUS_NOT_SUPPORTED', async () => {
    const s = await SimStream.raw(host.socketPath);
    s.send(FrameType.HELLO, 7n, hello(StreamKind.PORT, WIRE_MAGIC, 2));
    const answer = await s.waitFor((f) => f.type === FrameType.HELLO_RESULT && f.tag === 7n);
    expect(hex(answer.body.readUInt32LE(0))).toBe(hex(0xc00000bb));
    s.close();
  });

  it('bad control lines are answered with errors, not dropped', async () => {
    const cases: Array<[string, RegExp]> = [
      ['no_such_verb', /unknown verb no_such_verb/],
      ['ping extra', /expected key=value/],
      ['port.create name=%ZZ', /bad percent-encoding/],
      ['port.create name=\\X bogus=1', /bogus: unknown argument for port.create/],
      ['send conn=1 conn=2', /duplicate key conn/],
      ['option name=zero_timeout value=sometimes', /invalid value 'sometimes'/],
      // A u64 beyond int64 used to wrap into "wait forever", blocking the control session.
      ['conn.wait id=newest timeout=18446744073709551615', /timeout: at most 3600000 ms/],
    ];
    for (const [line, message] of cases) {
      const r = await ctl.command(line);
      expect(r.ok).toBe(false);
      expect(hex(r.status)).toBe(hex(0xc000000d));
      expect(r.fields['message']).toMatch(message);
    }
  });
});

describe('unload (spec §7.3)', () => {
  it('calls DisconnectNotify for every connection, completes pending gets, releases blocked senders', async () => {
    const host = await SimHost.start();
    const ctl = await SimControl.open(host.socketPath);
    await ctl.ok('port.create', { name: '\\FltsimUnloadA', max: 2 });
    await ctl.ok('port.create', { name: '\\FltsimUnloadB' });
    const a1 = await SimPortClient.connect(host.socketPath, '\\FltsimUnloadA');
    const a2 = await SimPortClient.connect(host.socketPath, '\\FltsimUnloadA');
    const b = await SimPortClient.connect(host.socketPath, '\\FltsimUnloadB');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await ctl.event('connect')).fields['conn'] as string);
    const get = a1.postGet(64);
    const bConn = ids[2] as string;
    await ctl.ok('conn.wait', { id: ids[0] as string, gets: 1 });
    const send = await ctl.ok('send', { conn: bConn, size: 4, reply: 4, timeout: 'forever' });
    await ctl.ok('conn.wait', { id: bConn, senders: 1 });
    await ctl.ok('unload');
    expect((await get.done).status).toBe(0xc0000037);
    expect((await ctl.event('send', { id: send['first'] as string })).fields['status']).toBe(hex(0xc0000037));
    const reasons = ctl.seen('disconnect').map((e) => [e.fields['conn'], e.fields['reason']]);
    expect(reasons.sort()).toEqual(ids.map((id) => [id, 'unload']).sort());
    expect(ctl.seen('td-disconnect').map((e) => e.fields['pid'])).toEqual(['4', '4', '4']);
    // The driver closed its ports: their names are gone.
    const late = await SimPortClient.connect(host.socketPath, '\\FltsimUnloadA');
    expect(hex(late.status)).toBe(hex(0xc0000034));
    // Later calls on the old handles fail with the disconnect status.
    expect((await a2.get(64)).status).toBe(0xc0000037);
    expect((await b.send(Buffer.from([1]), 4)).status).toBe(0xc0000037);
    // The user closing afterwards does not call DisconnectNotify again.
    a1.close();
    a2.close();
    b.close();
    await new Promise((r) => setTimeout(r, 100));
    await ctl.ok('ping');
    expect(ctl.seen('disconnect')).toHaveLength(3);
    // A second unload: the filter is gone.
    expect(hex(await ctl.fails('unload'))).toBe(hex(0xc01c0013));
    expect(hex(await ctl.fails('port.create', { name: '\\FltsimAfterUnload' }))).toBe(hex(0xc01c000b));
    late.close();
    ctl.close();
    expect(await host.stop()).toEqual({ code: 0, signal: null });
  });

  it('a port the driver did not close answers STATUS_FLT_DELETING_OBJECT (0x801F000B) after unload', async () => {
    const host = await SimHost.start();
    const ctl = await SimControl.open(host.socketPath);
    await ctl.ok('port.create', { name: '\\FltsimKept' });
    await ctl.ok('driver.config', { unload: 'keep-ports' });
    await ctl.ok('unload');
    const c = await SimPortClient.connect(host.socketPath, '\\FltsimKept');
    expect(hex(c.status)).toBe(hex(0xc01c000b));
    await host.waitForLog(/unregistered with server port \\FltsimKept still open/);
    c.close();
    ctl.close();
    expect(await host.stop()).toEqual({ code: 0, signal: null });
  });

  it('a driver may refuse a non-mandatory unload; the filter keeps running', async () => {
    const host = await SimHost.start();
    const ctl = await SimControl.open(host.socketPath);
    await ctl.ok('port.create', { name: '\\FltsimRefuses' });
    await ctl.ok('driver.config', { unload: 'refuse:0xC01C0010' });
    expect(hex(await ctl.fails('unload'))).toBe(hex(0xc01c0010));
    const c = await SimPortClient.connect(host.socketPath, '\\FltsimRefuses');
    expect(c.status).toBe(0);
    c.close();
    ctl.close();
    // Host exit unloads with FLTFL_FILTER_UNLOAD_MANDATORY, which the driver cannot refuse.
    expect(await host.stop()).toEqual({ code: 0, signal: null });
  });
});
