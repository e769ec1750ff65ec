// Contract: FilterSendMessage → the driver's MessageNotify (spec §5): the sample's control
// commands, its failure table, echo test ports and status propagation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferTooSmallError, connect, DisconnectedError, FltportError, type Port } from '../../lib/index.js';
import { CONTROL, connectContext, DriverControl, P, SCANNER } from '../helpers/contract-driver.js';
import { type ContractTarget, contractTargetName, startContractTarget } from '../helpers/contract-target.js';

const name = contractTargetName();
let target: ContractTarget;
let control: DriverControl;
const opened: Port[] = [];

beforeAll(async () => {
  target = await startContractTarget();
  control = await DriverControl.open(target);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((p) => p.close()));
  await control?.close();
  await target?.stop();
});

async function open(portName: string, context: Uint8Array): Promise<Port> {
  const p = await connect(portName, { ...target.connectOptions, context });
  p.unref();
  opened.push(p);
  return p;
}

async function sendError(port: Port, input: Uint8Array | null, replyCapacity: number): Promise<FltportError> {
  try {
    await port.send(input, { replyCapacity });
  } catch (e) {
    expect(e).toBeInstanceOf(FltportError);
    return e as FltportError;
  }
  throw new Error('send succeeded, expected a failure');
}

const statsInput = (): Uint8Array => P.FPS_CONTROL_HEADER.encode(control.header(P.FPS_COMMAND.FpsCmdGetStats, P.FPS_CONTROL_HEADER.size));

describe(`FilterSendMessage → MessageNotify [${name}]`, () => {
  it('GET_STATS: exactly 320 bytes back, protocol 1, the defaults, one control connection, test control built', async () => {
    const out = await control.raw(statsInput(), 1024);
    expect(out.length).toBe(P.FPS_CMD_GET_STATS_RESULT.size);
    const result = P.FPS_CMD_GET_STATS_RESULT.decode(out);
    expect(result.Control.Header.Type).toBe(P.FPS_MESSAGE_TYPE.FpsMsgControlResult);
    expect(result.Control.Header.Size).toBe(320);
    expect(result.Control.Command).toBe(P.FPS_COMMAND.FpsCmdGetStats);
    expect(result.Stats.ProtocolVersion).toBe(1);
    expect(result.Stats.Features & P.FPS_FEATURE_TEST_CONTROL).toBe(P.FPS_FEATURE_TEST_CONTROL);
    expect(result.Stats.Features & P.FPS_FEATURE_SCAN_PORT_OPEN).toBe(P.FPS_FEATURE_SCAN_PORT_OPEN);
    expect(result.Stats.ControlConnections).toBe(1);
    if (name === 'fltsim') {
      // fltsimentry.c's settings: audit, 3 s, mailslot on.
      expect(result.Stats).toMatchObject({ Mode: P.FPS_MODE.FpsModeAudit, ScanTimeoutMs: 3000 });
      expect(result.Stats.Features & P.FPS_FEATURE_MAILSLOT).toBe(P.FPS_FEATURE_MAILSLOT);
    }
  });

  it('the scan port answers GET_STATS and refuses every other command with 0x80070005', async () => {
    const scanner = await open(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER, { Flags: P.FPS_CONNECTF_NO_NOTIFY }));
    const stats = await control.getStats(scanner);
    expect(stats.ScannerConnections).toBe(1);
    const setPolicy = P.FPS_CMD_SET_POLICY.encode({ Control: control.header(P.FPS_COMMAND.FpsCmdSetPolicy, P.FPS_CMD_SET_POLICY.size), Mode: 1, ScanTimeoutMs: 0 });
    const e = await sendError(scanner, setPolicy, 64);
    expect(e).toMatchObject({ code: 'FLTPORT_ACCESS_DENIED', hresult: 0x80070005 });
    await scanner.close();
  });

  const cases: [string, () => Uint8Array | null, number, number, string][] = [
    ['a NULL input buffer', () => null, 1024, 0x80070057, 'FLTPORT_INVALID_ARGUMENT'],
    ['a bad magic', () => { const b = statsInput(); b[0] = 0; return b; }, 1024, 0x80070057, 'FLTPORT_INVALID_ARGUMENT'],
    ['Size not the input length', () => P.FPS_CONTROL_HEADER.encode(control.header(P.FPS_COMMAND.FpsCmdGetStats, 33)), 1024, 0x80070057, 'FLTPORT_INVALID_ARGUMENT'],
    ['an input longer than the command', () => { const b = new Uint8Array(40); b.set(P.FPS_CONTROL_HEADER.encode(control.header(P.FPS_COMMAND.FpsCmdGetStats, 40))); return b; }, 1024, 0x80070057, 'FLTPORT_INVALID_ARGUMENT'],
    ['an unknown command', () => P.FPS_CONTROL_HEADER.encode(control.header(0x7777, P.FPS_CONTROL_HEADER.size)), 1024, 0x80070001, 'FLTPORT_NOT_SUPPORTED'],
  ];
  it.each(cases)('refuses %s', async (_what, input, capacity, hresult, code) => {
    const e = await sendError(control.port, input(), capacity);
    expect(e.hresult).toBe(hresult);
    expect(e.code).toBe(code);
  });

  it('an output buffer too small for the result: BufferTooSmallError 0x8007007A', async () => {
    const e = await sendError(control.port, statsInput(), 100);
    expect(e).toBeInstanceOf(BufferTooSmallError);
    expect(e.hresult).toBe(0x8007007a);
  });

  it('SET_POLICY changes mode and timeout (seen by GET_STATS); an out-of-range timeout is 0x80070057', async () => {
    const before = await control.getStats();
    try {
      expect(await control.setPolicy(P.FPS_MODE.FpsModeBlock, 750)).toEqual({ Mode: 1, ScanTimeoutMs: 750 });
      expect(await control.getStats()).toMatchObject({ Mode: 1, ScanTimeoutMs: 750 });
      expect(await control.setPolicy(P.FPS_MODE_UNCHANGED, P.FPS_TIMEOUT_UNCHANGED)).toEqual({ Mode: 1, ScanTimeoutMs: 750 });
      const tooShort = P.FPS_CMD_SET_POLICY.encode({ Control: control.header(P.FPS_COMMAND.FpsCmdSetPolicy, P.FPS_CMD_SET_POLICY.size), Mode: P.FPS_MODE_UNCHANGED, ScanTimeoutMs: 99 });
      expect((await sendError(control.port, tooShort, 64)).hresult).toBe(0x80070057);
    } finally {
      await control.setPolicy(before.Mode, before.ScanTimeoutMs);
    }
  });

  it('a third control connection is refused by MaxConnections 2 (0x800704D4)', async () => {
    const second = await open(P.FPS_CONTROL_PORT_NAME, connectContext(CONTROL));
    await expect(open(P.FPS_CONTROL_PORT_NAME, connectContext(CONTROL))).rejects.toMatchObject({ code: 'FLTPORT_CONNECTION_LIMIT', hresult: 0x800704d4 });
    await second.close();
  });

  it('§5.2 a test port echoes min(input, output) bytes; lpBytesReturned is that length', async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}Echo`;
    const portId = await control.createPort({ name: portName, MaxConnections: 1 });
    const p = await open(portName, new Uint8Array(0));
    const input = new Uint8Array(100).map((_v, i) => (i * 3) & 0xff);
    expect([...(await p.send(input, { replyCapacity: 200 }) as Uint8Array)]).toEqual([...input]);
    expect([...(await p.send(input, { replyCapacity: 40 }) as Uint8Array)]).toEqual([...input.subarray(0, 40)]);
    expect((await p.send(input, { replyCapacity: 0 }) as Uint8Array).length).toBe(0);
    await p.close();
    await control.closePort(portId, P.FPS_TPORT_CLOSE_CLIENTS);
  });

  it('§5.2 status propagation: MessageNotify returning STATUS_NO_MORE_ENTRIES → FLTPORT_NO_MORE_ENTRIES 0x80070103', async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}Status`;
    const portId = await control.createPort({ name: portName, MaxConnections: 1, MessageStatus: 0x8000001a | 0 });
    const p = await open(portName, new Uint8Array(0));
    const e = await sendError(p, new Uint8Array(8), 8);
    expect(e).toMatchObject({ code: 'FLTPORT_NO_MORE_ENTRIES', hresult: 0x80070103 });
    await p.close();
    await control.closePort(portId, P.FPS_TPORT_CLOSE_CLIENTS);
  });

  it('§5.2 a port without MessageNotify fails every send (fltsim: 0x80070032; Windows: UNCONFIRMED, spec §14.1)', async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}NoNotify`;
    const portId = await control.createPort({ name: portName, MaxConnections: 1, Flags: P.FPS_TPORTF_NO_MESSAGE_NOTIFY });
    const p = await open(portName, new Uint8Array(0));
    const e = await sendError(p, new Uint8Array(8), 8);
    if (name === 'fltsim') expect(e.hresult).toBe(0x80070032);
    else console.log(`[${name}] FilterSendMessage without MessageNotify: 0x${e.hresult?.toString(16)} (${e.code})`);
    await p.close();
    await control.closePort(portId, P.FPS_TPORT_CLOSE_CLIENTS);
  });

  it('a send on a connection the driver closed: DisconnectedError 0x80070006', async () => {
    const scanner = await open(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER, { Flags: P.FPS_CONNECTF_NO_NOTIFY }));
    await control.closeClient(P.FPS_TARGET_KIND.FpsTargetLatestScanner);
    await scanner.closed;
    const e = await sendError(scanner, statsInput(), 1024);
    expect(e).toBeInstanceOf(DisconnectedError);
    expect(e.code).toBe('FLTPORT_DISCONNECTED');
  });

  it('TestCloseClient refuses the calling connection itself (0x80070057) and unknown ids (0x80070490)', async () => {
    const self = (await control.listConnections()).find((c) => c.PortId === P.FPS_PORT_ID_CONTROL)!;
    const e1 = await control.closeClient(P.FPS_TARGET_KIND.FpsTargetConnectionId, self.ConnectionId).then(() => null, (e: FltportError) => e);
    expect(e1?.hresult).toBe(0x80070057);
    const e2 = await control.closeClient(P.FPS_TARGET_KIND.FpsTargetConnectionId, 0x7fff_0000).then(() => null, (e: FltportError) => e);
    expect(e2?.hresult).toBe(0x80070490);
  });
});
