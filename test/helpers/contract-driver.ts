// The sample driver's control port (\FltportSampleControl) as the contract suite drives it:
// FilterSendMessage with FPS_CONTROL_HEADER + parameters, encoded with the codecs generated
// from samples/minifilter/inc/fltport_sample.h. Works the same on every target: only the
// public API (connect, port.send) is used.
import { connect, type Port } from '../../lib/index.js';
import * as P from '../../samples/scanner-service/protocol.js';
import type { ContractTarget } from './contract-target.js';

export { P };

const CONTROL_HEADER_SIZE = P.FPS_CONTROL_HEADER.size;

/** FPS_CONNECT_CONTEXT bytes; every field can be overridden to build bad contexts. */
export function connectContext(role: number, overrides: Partial<P.FPS_CONNECT_CONTEXT> = {}): Uint8Array {
  return P.FPS_CONNECT_CONTEXT.encode({
    Magic: P.FPS_CONNECT_MAGIC,
    Version: P.FPS_PROTOCOL_VERSION,
    Role: role,
    Flags: 0,
    Reserved: 0,
    ...overrides,
  });
}

export const SCANNER = P.FPS_ROLE.FpsRoleScanner;
export const CONTROL = P.FPS_ROLE.FpsRoleControl;
export const TEST = P.FPS_ROLE.FpsRoleTest;

export interface TestSendParams {
  TargetKind?: number;
  Target?: number;
  MessageCount?: number;
  PayloadSize?: number;
  ReplyCapacity?: number;
  TimeoutMode?: number;
  TimeoutMs?: number;
  Concurrency?: number;
  Flags?: number;
  IntervalMs?: number;
  StartDelayMs?: number;
}

export interface TestResults {
  summary: P.FPS_TEST_RUN_SUMMARY;
  firstRecord: number;
  records: P.FPS_TEST_OUTCOME[];
}

export interface CreatePortParams {
  name: string;
  MaxConnections?: number;
  SecurityMode?: number;
  Flags?: number;
  ConnectStatus?: number;
  MessageStatus?: number;
  sid?: Uint8Array;
}

/** A control-port connection (role control) and one method per command. */
export class DriverControl {
  readonly port: Port;
  #sequence = 0;

  private constructor(port: Port) {
    this.port = port;
  }

  static async open(target: Pick<ContractTarget, 'connectOptions'>): Promise<DriverControl> {
    const port = await connect(P.FPS_CONTROL_PORT_NAME, { ...target.connectOptions, context: connectContext(CONTROL) });
    port.unref();
    return new DriverControl(port);
  }

  header(command: number, size: number): P.FPS_CONTROL_HEADER {
    return {
      Header: {
        Magic: P.FPS_MESSAGE_MAGIC,
        Version: P.FPS_PROTOCOL_VERSION,
        Type: P.FPS_MESSAGE_TYPE.FpsMsgControl,
        Size: size,
        Sequence: ++this.#sequence,
        Timestamp: 0n,
      },
      Command: command,
      Reserved: 0,
    };
  }

  /** Raw round trip: input bytes → returned bytes (exactly lpBytesReturned). */
  async raw(input: Uint8Array, replyCapacity: number, port: Port = this.port): Promise<Uint8Array> {
    return (await port.send(input, { replyCapacity })) as Uint8Array;
  }

  /** Checks the result envelope and returns the bytes. */
  async #call(command: number, input: Uint8Array, replyCapacity: number, port?: Port): Promise<Uint8Array> {
    const out = await this.raw(input, replyCapacity, port);
    const head = P.FPS_CONTROL_HEADER.decode(out);
    if (head.Header.Magic !== P.FPS_MESSAGE_MAGIC || head.Header.Type !== P.FPS_MESSAGE_TYPE.FpsMsgControlResult || head.Command !== command) {
      throw new Error(`control result envelope mismatch: ${JSON.stringify(head, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    }
    return out;
  }

  async getStats(port?: Port): Promise<P.FPS_STATS> {
    const input = P.FPS_CONTROL_HEADER.encode(this.header(P.FPS_COMMAND.FpsCmdGetStats, CONTROL_HEADER_SIZE));
    const out = await this.#call(P.FPS_COMMAND.FpsCmdGetStats, input, P.FPS_CMD_GET_STATS_RESULT.size, port);
    return P.FPS_CMD_GET_STATS_RESULT.decode(out).Stats;
  }

  async resetStats(): Promise<P.FPS_STATS> {
    const input = P.FPS_CONTROL_HEADER.encode(this.header(P.FPS_COMMAND.FpsCmdTestResetStats, CONTROL_HEADER_SIZE));
    const out = await this.#call(P.FPS_COMMAND.FpsCmdTestResetStats, input, P.FPS_CMD_GET_STATS_RESULT.size);
    return P.FPS_CMD_GET_STATS_RESULT.decode(out).Stats;
  }

  async setPolicy(mode: number, scanTimeoutMs: number): Promise<{ Mode: number; ScanTimeoutMs: number }> {
    const input = P.FPS_CMD_SET_POLICY.encode({
      Control: this.header(P.FPS_COMMAND.FpsCmdSetPolicy, P.FPS_CMD_SET_POLICY.size),
      Mode: mode,
      ScanTimeoutMs: scanTimeoutMs,
    });
    const out = await this.#call(P.FPS_COMMAND.FpsCmdSetPolicy, input, P.FPS_CMD_POLICY_RESULT.size);
    const r = P.FPS_CMD_POLICY_RESULT.decode(out);
    return { Mode: r.Mode, ScanTimeoutMs: r.ScanTimeoutMs };
  }

  /** Starts a run; returns its summary (RunId). */
  async testSend(params: TestSendParams): Promise<P.FPS_TEST_RUN_SUMMARY> {
    const input = P.FPS_CMD_TEST_SEND.encode({
      Control: this.header(P.FPS_COMMAND.FpsCmdTestSend, P.FPS_CMD_TEST_SEND.size),
      TargetKind: P.FPS_TARGET_KIND.FpsTargetLatestScanner,
      Target: 0,
      MessageCount: 1,
      PayloadSize: 64,
      ReplyCapacity: 0,
      TimeoutMode: P.FPS_TIMEOUT_MODE.FpsTimeoutRelative,
      TimeoutMs: 5_000,
      Concurrency: 1,
      Flags: 0,
      IntervalMs: 0,
      StartDelayMs: 0,
      Reserved: 0,
      ...params,
    });
    const out = await this.#call(P.FPS_COMMAND.FpsCmdTestSend, input, P.FPS_CMD_TEST_RUN_RESULT.size);
    return P.FPS_CMD_TEST_RUN_RESULT.decode(out).Summary;
  }

  async getResults(runId: number, { waitMs = 20_000, firstRecord = 0, maxRecords = 64 } = {}): Promise<TestResults> {
    const input = P.FPS_CMD_TEST_GET_RESULTS.encode({
      Control: this.header(P.FPS_COMMAND.FpsCmdTestGetResults, P.FPS_CMD_TEST_GET_RESULTS.size),
      RunId: runId,
      WaitMs: waitMs,
      FirstRecord: firstRecord,
      MaxRecords: maxRecords,
    });
    const capacity = P.FPS_CMD_TEST_RESULTS.size + maxRecords * P.FPS_TEST_OUTCOME.size;
    const out = await this.#call(P.FPS_COMMAND.FpsCmdTestGetResults, input, capacity);
    const fixed = P.FPS_CMD_TEST_RESULTS.decode(out);
    const records: P.FPS_TEST_OUTCOME[] = [];
    for (let i = 0; i < fixed.ReturnedRecords; i++) {
      records.push(P.FPS_TEST_OUTCOME.decode(out, P.FPS_CMD_TEST_RESULTS.size + i * P.FPS_TEST_OUTCOME.size));
    }
    return { summary: fixed.Summary, firstRecord: fixed.FirstRecord, records };
  }

  async #runId(command: number, runId: number): Promise<void> {
    const input = P.FPS_CMD_TEST_RUN_ID.encode({ Control: this.header(command, P.FPS_CMD_TEST_RUN_ID.size), RunId: runId, Reserved: 0 });
    await this.#call(command, input, 1024);
  }

  cancelRun(runId: number): Promise<void> {
    return this.#runId(P.FPS_COMMAND.FpsCmdTestCancelRun, runId);
  }

  releaseRun(runId: number): Promise<void> {
    return this.#runId(P.FPS_COMMAND.FpsCmdTestReleaseRun, runId);
  }

  async listConnections(max = 80): Promise<P.FPS_CONNECTION_INFO[]> {
    const input = P.FPS_CONTROL_HEADER.encode(this.header(P.FPS_COMMAND.FpsCmdTestListConnections, CONTROL_HEADER_SIZE));
    const out = await this.#call(P.FPS_COMMAND.FpsCmdTestListConnections, input, P.FPS_CMD_CONNECTION_LIST.size + max * P.FPS_CONNECTION_INFO.size);
    const fixed = P.FPS_CMD_CONNECTION_LIST.decode(out);
    const list: P.FPS_CONNECTION_INFO[] = [];
    for (let i = 0; i < fixed.ReturnedConnections; i++) {
      list.push(P.FPS_CONNECTION_INFO.decode(out, P.FPS_CMD_CONNECTION_LIST.size + i * P.FPS_CONNECTION_INFO.size));
    }
    return list;
  }

  async closeClient(targetKind: number, target = 0): Promise<void> {
    const input = P.FPS_CMD_TEST_TARGET.encode({ Control: this.header(P.FPS_COMMAND.FpsCmdTestCloseClient, P.FPS_CMD_TEST_TARGET.size), TargetKind: targetKind, Target: target });
    await this.#call(P.FPS_COMMAND.FpsCmdTestCloseClient, input, 1024);
  }

  async scanPort(action: number): Promise<void> {
    const input = P.FPS_CMD_TEST_SCAN_PORT.encode({ Control: this.header(P.FPS_COMMAND.FpsCmdTestScanPort, P.FPS_CMD_TEST_SCAN_PORT.size), Action: action, Reserved: 0 });
    await this.#call(P.FPS_COMMAND.FpsCmdTestScanPort, input, 1024);
  }

  /** Creates a test port; returns its PortId. */
  async createPort(params: CreatePortParams): Promise<number> {
    const sid = params.sid ?? new Uint8Array(0);
    const padded = new Uint8Array(72);
    padded.set(sid);
    const input = P.FPS_CMD_TEST_CREATE_PORT.encode({
      Control: this.header(P.FPS_COMMAND.FpsCmdTestCreatePort, P.FPS_CMD_TEST_CREATE_PORT.size),
      MaxConnections: params.MaxConnections ?? 1,
      SecurityMode: params.SecurityMode ?? P.FPS_SECURITY_MODE.FpsSecurityDefault,
      Flags: params.Flags ?? 0,
      ConnectStatus: params.ConnectStatus ?? 0,
      MessageStatus: params.MessageStatus ?? 0,
      NameLength: params.name.length * 2,
      SidLength: sid.length,
      Reserved: 0,
      Name: params.name,
      Sid: padded,
    });
    const out = await this.#call(P.FPS_COMMAND.FpsCmdTestCreatePort, input, P.FPS_CMD_VALUE_RESULT.size);
    return P.FPS_CMD_VALUE_RESULT.decode(out).Value;
  }

  async closePort(portId: number, flags = 0): Promise<void> {
    const input = P.FPS_CMD_TEST_CLOSE_PORT.encode({ Control: this.header(P.FPS_COMMAND.FpsCmdTestClosePort, P.FPS_CMD_TEST_CLOSE_PORT.size), PortId: portId, Flags: flags });
    await this.#call(P.FPS_COMMAND.FpsCmdTestClosePort, input, 1024);
  }

  close(): Promise<void> {
    return this.port.close();
  }
}

/**
 * Checks a test payload (README "Test payloads"): a 24-byte FpsMsgTestPayload envelope (unless
 * raw) and byte i = i & 0xFF for every other byte. Returns what is wrong, or '' when it is right.
 */
export function payloadProblem(bytes: Uint8Array, size: number, { raw = false, sequence }: { raw?: boolean; sequence?: number } = {}): string {
  if (bytes.length !== size) return `length ${bytes.length}, expected ${size}`;
  let from = 0;
  if (!raw && size >= P.FPS_MESSAGE_HEADER.size) {
    const head = P.FPS_MESSAGE_HEADER.decode(bytes);
    if (head.Magic !== P.FPS_MESSAGE_MAGIC || head.Version !== 1 || head.Type !== P.FPS_MESSAGE_TYPE.FpsMsgTestPayload || head.Size !== size) {
      return `bad envelope ${JSON.stringify({ ...head, Timestamp: String(head.Timestamp) })}`;
    }
    if (sequence !== undefined && head.Sequence !== sequence) return `sequence ${head.Sequence}, expected ${sequence}`;
    from = P.FPS_MESSAGE_HEADER.size;
  }
  for (let i = from; i < size; i++) if (bytes[i] !== (i & 0xff)) return `byte ${i} is ${bytes[i]}, expected ${i & 0xff}`;
  return '';
}

/** NTSTATUS values the suite asserts (unsigned, as the codecs decode i32 → compare with `| 0`). */
export const NT = {
  SUCCESS: 0,
  TIMEOUT: 0x102,
  PENDING: 0x103,
  BUFFER_OVERFLOW: 0x80000005 | 0,
  PORT_DISCONNECTED: 0xc0000037 | 0,
  INVALID_PARAMETER_3: 0xc00000f1 | 0,
  NO_MORE_ENTRIES: 0x8000001a | 0,
  ACCESS_DENIED: 0xc0000022 | 0,
} as const;
