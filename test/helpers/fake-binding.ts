// A NativeBinding in plain TypeScript for unit tests: it behaves like the addon where lib/
// can observe it (batches with one shared ArrayBuffer, reply and send outcomes in later
// batches, kernel-style flow control on consumed(), onStopped exactly once, errors built
// through the factory lib/ registered) and records every call so tests can assert on them.
import type {
  NativeBatch,
  NativeBinding,
  NativeConnectOptions,
  NativeErrorFactory,
  NativeErrorInfo,
  NativeFilterInfo,
  NativeInstanceInfo,
  NativeMailslot,
  NativeMailslotInfo,
  NativeMailslotOptions,
  NativeManagementContext,
  NativePort,
  NativeStatusEntry,
  NativeStopReason,
  NativeVolumeInfo,
} from '../../lib/binding.js';
import { hresultFromNtStatus, hresultFromWin32, nativeStatusRows } from '../../lib/errors.js';

export type FakeErrorInfo = Partial<NativeErrorInfo> & { hresult: number; requiredSize?: number };

/** An NTSTATUS failure as fltsim reports it (origin ntstatus, HRESULT per spec §1.3). */
export function ntError(ntstatus: number, syscall: string, detail = ''): FakeErrorInfo {
  return { origin: 'ntstatus', ntstatus: ntstatus >>> 0, hresult: hresultFromNtStatus(ntstatus), syscall, detail };
}

/** A Win32 failure (an overlapped completion / mailslot call). */
export function win32Error(win32: number, syscall: string, extra: Partial<FakeErrorInfo> = {}): FakeErrorInfo {
  return { origin: 'win32', win32, hresult: hresultFromWin32(win32), syscall, detail: '', ...extra };
}

export interface FakeMessage {
  payload: Uint8Array | string;
  /** Driver's reply capacity; undefined = one-way (ReplyLength 0). */
  replyCapacity?: number;
  id?: bigint;
}

interface BatchParts {
  messages?: Array<{ id: bigint; replyLength: number; payload: Uint8Array }>;
  replies?: Array<{ token: number; error: Error | null }>;
  reads?: Array<{ token: number; error: Error | null; bytes?: Uint8Array }>;
  faults?: Error[];
}

const encoder = new TextEncoder();
const bytes = (p: Uint8Array | string): Uint8Array => (typeof p === 'string' ? encoder.encode(p) : p);

/** Builds a NativeBatch the way native/napi does: one ArrayBuffer, flat typed arrays. */
export function buildBatch(parts: BatchParts): NativeBatch {
  const messages = parts.messages ?? [];
  const reads = parts.reads ?? [];
  let total = 0;
  for (const m of messages) total += (m.payload.byteLength + 7) & ~7;
  for (const r of reads) total += ((r.bytes?.byteLength ?? 0) + 7) & ~7;
  const buffer = new ArrayBuffer(Math.max(total, 8));
  const view = new Uint8Array(buffer);
  const ids = new BigUint64Array(messages.length);
  const replyLengths = new Uint32Array(messages.length);
  const offsets = new Uint32Array(messages.length);
  const lengths = new Uint32Array(messages.length);
  let at = 0;
  messages.forEach((m, i) => {
    ids[i] = m.id;
    replyLengths[i] = m.replyLength;
    offsets[i] = at;
    lengths[i] = m.payload.byteLength;
    view.set(m.payload, at);
    at += (m.payload.byteLength + 7) & ~7;
  });
  const readOffsets = new Uint32Array(reads.length);
  const readLengths = new Uint32Array(reads.length);
  reads.forEach((r, i) => {
    const b = r.bytes ?? new Uint8Array(0);
    readOffsets[i] = at;
    readLengths[i] = b.byteLength;
    view.set(b, at);
    at += (b.byteLength + 7) & ~7;
  });
  const replies = parts.replies ?? [];
  return {
    buffer,
    messageCount: messages.length,
    ids,
    replyLengths,
    offsets,
    lengths,
    replyTokens: Float64Array.from(replies.map((r) => r.token)),
    replyErrors: replies.map((r) => r.error),
    readTokens: Float64Array.from(reads.map((r) => r.token)),
    readErrors: reads.map((r) => r.error),
    readOffsets,
    readLengths,
    faults: parts.faults ?? [],
  };
}

/** What a fake send's driver returns: an output buffer, of which `returned` bytes count. */
export interface FakeSendResult {
  bytes: Uint8Array;
  returned: number;
}

export type ReplyBehavior = 'ok' | 'manual' | ((call: ReplyCall) => FakeErrorInfo | null);

export interface ReplyCall {
  token: number;
  messageId: bigint;
  status: number;
  payload: Uint8Array | null;
}

export class FakePort implements NativePort {
  readonly binding: FakeBinding;
  readonly options: NativeConnectOptions;
  readonly onBatch: (batch: NativeBatch) => void;
  readonly onStopped: (reason: NativeStopReason, error: Error | null) => void;
  readonly consumedCalls: number[] = [];
  readonly replies: ReplyCall[] = [];
  readonly sends: Array<{ input: Uint8Array | null; outputCapacity: number }> = [];
  replyBehavior: ReplyBehavior = 'ok';
  sendHandler: (input: Uint8Array | null, outputCapacity: number) => Promise<FakeSendResult> = async (_input, cap) => ({
    bytes: new Uint8Array(cap),
    returned: 0,
  });
  /** The "kernel": messages whose senders wait for a pending receive. */
  readonly waiting: FakeMessage[] = [];
  /** Delivered to JS and not yet reported consumed. */
  unconsumed = 0;
  maxUnconsumed = 0;
  delivered = 0;
  stopped = false;
  closeCalls = 0;
  refed = true;
  #nextId = 1n;
  #pendingOutcomes: Array<{ token: number; error: Error | null }> = [];
  /** Sends whose handler has not settled: the stop answers them (0x80070006), as native does. */
  readonly #pendingSends = new Set<number>();
  #flushScheduled = false;

  constructor(
    binding: FakeBinding,
    options: NativeConnectOptions,
    onBatch: (batch: NativeBatch) => void,
    onStopped: (reason: NativeStopReason, error: Error | null) => void,
  ) {
    this.binding = binding;
    this.options = options;
    this.onBatch = onBatch;
    this.onStopped = onStopped;
  }

  get consumedTotal(): number {
    return this.consumedCalls.reduce((a, b) => a + b, 0);
  }

  /** Driver side: FltSendMessage calls; delivered as far as the receive window allows. */
  post(...messages: FakeMessage[]): void {
    this.waiting.push(...messages);
    this.pump();
  }

  /** Delivers waiting messages while fewer than highWaterMark are unconsumed (ReceiveWindow). */
  pump(): void {
    if (this.stopped) return;
    const batch: NonNullable<BatchParts['messages']> = [];
    while (this.waiting.length > 0 && this.unconsumed < this.options.highWaterMark) {
      const m = this.waiting.shift() as FakeMessage;
      const id = m.id ?? this.#nextId++;
      batch.push({
        id,
        replyLength: m.replyCapacity === undefined ? 0 : m.replyCapacity + 16,
        payload: bytes(m.payload),
      });
      this.unconsumed += 1;
      this.delivered += 1;
    }
    this.maxUnconsumed = Math.max(this.maxUnconsumed, this.unconsumed);
    if (batch.length > 0) this.onBatch(buildBatch({ messages: batch }));
  }

  /** Hands JS an arbitrary batch (for malformed deliveries, faults, ...). */
  deliver(parts: BatchParts): void {
    this.unconsumed += parts.messages?.length ?? 0;
    this.onBatch(buildBatch(parts));
  }

  /** A receive fault (e.g. a message larger than maxMessageSize). */
  fault(info: FakeErrorInfo): void {
    this.onBatch(buildBatch({ faults: [this.binding.makeError(info)] }));
  }

  /** The driver closes the client port / unloads (or the session fails). */
  disconnect(reason: NativeStopReason = 'disconnected', info: FakeErrorInfo | null = ntError(0xc0000037, 'FilterGetMessage')): void {
    if (this.stopped) return;
    this.#stop();
    this.onStopped(reason, info === null ? null : this.binding.makeError(info));
  }

  /** Resolves reply token(s) now (for replyBehavior 'manual'). */
  completeReply(token: number, info: FakeErrorInfo | null = null): void {
    this.onBatch(buildBatch({ replies: [{ token, error: info === null ? null : this.binding.makeError(info) }] }));
  }

  flushOutcomes(): void {
    this.#flushScheduled = false;
    if (this.#pendingOutcomes.length === 0) return;
    const replies = this.#pendingOutcomes.splice(0);
    this.onBatch(buildBatch({ replies }));
  }

  reply(token: number, messageId: bigint, status: number, payload: Uint8Array | null): void {
    if (this.closeCalls > 0) throw this.binding.makeError(win32Error(6, 'FilterReplyMessage', { detail: 'the port is closed' }));
    const call = { token, messageId, status, payload: payload === null ? null : payload.slice() };
    this.replies.push(call);
    if (this.replyBehavior === 'manual') return;
    const info = this.replyBehavior === 'ok' ? null : this.replyBehavior(call);
    this.#pendingOutcomes.push({ token, error: info === null ? null : this.binding.makeError(info) });
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Outcomes reach JS in a later batch, never synchronously inside reply().
      queueMicrotask(() => this.flushOutcomes());
    }
  }

  send(token: number, input: Uint8Array | null, outputCapacity: number): void {
    if (this.closeCalls > 0) throw this.binding.makeError(win32Error(6, 'FilterSendMessage', { detail: 'the port is closed' }));
    if (this.stopped) throw this.binding.makeError(ntError(0xc0000037, 'FilterSendMessage'));
    this.sends.push({ input: input === null ? null : input.slice(), outputCapacity });
    this.#pendingSends.add(token);
    const answer = (read: { error: Error | null; bytes?: Uint8Array }): void => {
      if (this.#pendingSends.delete(token)) this.onBatch(buildBatch({ reads: [{ token, ...read }] }));
    };
    // The outcome reaches JS in a later batch, never synchronously inside send().
    this.sendHandler(input, outputCapacity).then(
      (r) => answer({ error: null, bytes: r.bytes.subarray(0, Math.min(r.returned, r.bytes.byteLength)) }),
      (error: unknown) => answer({ error: error as Error }),
    );
  }

  /** What native does before onStopped: every outcome still owed goes out in a last batch. */
  #stop(): void {
    this.flushOutcomes();
    const sends = [...this.#pendingSends].map((token) => ({
      token,
      error: this.binding.makeError(ntError(0xc0000037, 'FilterSendMessage')),
    }));
    this.#pendingSends.clear();
    if (sends.length > 0) this.onBatch(buildBatch({ reads: sends }));
    this.stopped = true;
  }

  consumed(count: number): void {
    this.consumedCalls.push(count);
    this.unconsumed -= count;
    if (this.unconsumed < 0) throw new Error(`fake: consumed more (${this.consumedTotal}) than delivered (${this.delivered})`);
    queueMicrotask(() => this.pump());
  }

  close(): Promise<void> {
    this.closeCalls += 1;
    if (!this.stopped) {
      this.#stop();
      this.onStopped('closed', null);
    }
    return Promise.resolve();
  }

  ref(): void {
    this.refed = true;
  }

  unref(): void {
    this.refed = false;
  }
}

export class FakeMailslot implements NativeMailslot {
  readonly binding: FakeBinding;
  readonly options: NativeMailslotOptions;
  readonly onBatch: (batch: NativeBatch) => void;
  readonly onStopped: (error: Error | null) => void;
  readonly messages: Uint8Array[] = [];
  readonly reads: Array<{ token: number; maxSize: number }> = [];
  readonly readCalls: Array<{ token: number; maxSize: number }> = [];
  readTimeout: number;
  closed = false;
  refed = true;
  #timers = new Map<number, NodeJS.Timeout>();

  constructor(binding: FakeBinding, options: NativeMailslotOptions, onBatch: (b: NativeBatch) => void, onStopped: (e: Error | null) => void) {
    this.binding = binding;
    this.options = options;
    this.onBatch = onBatch;
    this.onStopped = onStopped;
    this.readTimeout = options.readTimeout;
  }

  write(data: Uint8Array | string): void {
    this.messages.push(bytes(data).slice());
    queueMicrotask(() => this.pump());
  }

  read(token: number, maxSize: number): void {
    if (this.closed) throw this.binding.makeError(win32Error(6, 'ReadFile', { detail: 'the mailslot is closed' }));
    this.readCalls.push({ token, maxSize });
    this.reads.push({ token, maxSize });
    queueMicrotask(() => this.pump());
  }

  pump(): void {
    if (this.closed) return;
    const outcomes: NonNullable<BatchParts['reads']> = [];
    while (this.reads.length > 0) {
      const r = this.reads[0] as { token: number; maxSize: number };
      const next = this.messages[0];
      if (next === undefined) {
        if (this.readTimeout === 0) {
          this.reads.shift();
          outcomes.push({ token: r.token, error: this.binding.makeError(ntError(0xc00000b5, 'ReadFile')) });
          continue;
        }
        if (this.readTimeout !== 0xffffffff && !this.#timers.has(r.token)) {
          this.#timers.set(
            r.token,
            setTimeout(() => {
              this.#timers.delete(r.token);
              const i = this.reads.findIndex((x) => x.token === r.token);
              if (i < 0) return;
              this.reads.splice(i, 1);
              this.onBatch(buildBatch({ reads: [{ token: r.token, error: this.binding.makeError(ntError(0xc00000b5, 'ReadFile')) }] }));
            }, this.readTimeout),
          );
        }
        break;
      }
      this.reads.shift();
      const t = this.#timers.get(r.token);
      if (t !== undefined) {
        clearTimeout(t);
        this.#timers.delete(r.token);
      }
      if (next.byteLength > r.maxSize) {
        outcomes.push({
          token: r.token,
          error: this.binding.makeError({ ...win32Error(122, 'ReadFile'), requiredSize: next.byteLength }),
        });
        continue;
      }
      this.messages.shift();
      outcomes.push({ token: r.token, error: null, bytes: next });
    }
    if (outcomes.length > 0) this.onBatch(buildBatch({ reads: outcomes }));
  }

  info(): NativeMailslotInfo {
    return {
      maxMessageSize: this.options.maxMessageSize,
      nextSize: this.messages[0]?.byteLength ?? 0xffffffff,
      count: this.messages.length,
      readTimeout: this.readTimeout,
    };
  }

  setReadTimeout(ms: number): void {
    this.readTimeout = ms;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const t of this.#timers.values()) clearTimeout(t);
      this.#timers.clear();
      const aborted = this.reads.splice(0).map((r) => ({ token: r.token, error: this.binding.makeError(win32Error(995, 'ReadFile')) }));
      if (aborted.length > 0) this.onBatch(buildBatch({ reads: aborted }));
      this.binding.mailslots.delete(this.options.name.toLowerCase());
      this.onStopped(null);
    }
    return Promise.resolve();
  }

  ref(): void {
    this.refed = true;
  }

  unref(): void {
    this.refed = false;
  }
}

export class FakeBinding implements NativeBinding {
  readonly version = '0.0.0-fake';
  readonly backend = 'fltsim' as const;
  errorFactory: NativeErrorFactory | undefined;
  setErrorFactoryCalls = 0;
  readonly connectCalls: NativeConnectOptions[] = [];
  readonly ports: FakePort[] = [];
  /** Outcomes of the next connect() calls, in order: an error, or a promise to wait on first. Default: success. */
  readonly connectPlan: Array<FakeErrorInfo | 'ok' | Promise<unknown>> = [];
  /** When set, only these port names exist (case-insensitive); others fail with STATUS_OBJECT_NAME_NOT_FOUND. */
  knownPorts: Set<string> | undefined;
  readonly mailslots = new Map<string, FakeMailslot>();
  readonly calls: Array<{ fn: string; args: unknown[] }> = [];
  filters: NativeFilterInfo[] = [];
  instances = new Map<string, NativeInstanceInfo[]>();
  volumes: NativeVolumeInfo[] = [];
  /** Filter name → port names it creates when loaded. */
  readonly filterPorts = new Map<string, string[]>();
  readonly loaded = new Set<string>();

  setErrorFactory(factory: NativeErrorFactory): void {
    this.errorFactory = factory;
    this.setErrorFactoryCalls += 1;
  }

  /** What native/napi's JsErrors::Make does: the registered factory, else a plain fallback. */
  makeError(info: FakeErrorInfo): Error {
    const full: NativeErrorInfo & { requiredSize?: number } = {
      origin: info.origin ?? 'hresult',
      hresult: info.hresult >>> 0,
      syscall: info.syscall ?? '',
      detail: info.detail ?? '',
      ...(info.ntstatus === undefined ? {} : { ntstatus: info.ntstatus }),
      ...(info.win32 === undefined ? {} : { win32: info.win32 }),
      ...(info.errno === undefined ? {} : { errno: info.errno }),
      ...(info.requiredSize === undefined ? {} : { requiredSize: info.requiredSize }),
    };
    if (this.errorFactory !== undefined) return this.errorFactory(full);
    return Object.assign(new Error(`fake native failure ${full.hresult.toString(16)}`), { code: 'FLTPORT_NATIVE' }, full);
  }

  get lastPort(): FakePort {
    const p = this.ports.at(-1);
    if (p === undefined) throw new Error('fake: no port connected');
    return p;
  }

  async connect(
    options: NativeConnectOptions,
    onBatch: (batch: NativeBatch) => void,
    onStopped: (reason: NativeStopReason, error: Error | null) => void,
  ): Promise<NativePort> {
    this.connectCalls.push({ ...options, context: options.context === null ? null : options.context.slice() });
    const plan = this.connectPlan.shift() ?? 'ok';
    if (plan instanceof Promise) await plan;
    else if (plan !== 'ok') throw this.makeError(plan);
    if (this.knownPorts !== undefined && !this.knownPorts.has(options.name.toLowerCase())) {
      throw this.makeError(ntError(0xc0000034, 'FilterConnectCommunicationPort', `no port ${options.name}`));
    }
    const port = new FakePort(this, options, onBatch, onStopped);
    this.ports.push(port);
    return port;
  }

  async createMailslot(
    options: NativeMailslotOptions,
    onBatch: (batch: NativeBatch) => void,
    onStopped: (error: Error | null) => void,
  ): Promise<NativeMailslot> {
    this.calls.push({ fn: 'createMailslot', args: [options] });
    const key = options.name.toLowerCase();
    if (this.mailslots.has(key)) throw this.makeError(ntError(0xc0000035, 'CreateMailslotW'));
    const slot = new FakeMailslot(this, options, onBatch, onStopped);
    this.mailslots.set(key, slot);
    return slot;
  }

  async writeMailslot(name: string, data: Uint8Array, simRuntimeDir: string): Promise<void> {
    this.calls.push({ fn: 'writeMailslot', args: [name, data.slice(), simRuntimeDir] });
    const slot = this.mailslots.get(name.toLowerCase());
    if (slot === undefined) throw this.makeError(win32Error(2, 'CreateFileW', { detail: `no mailslot ${name}` }));
    slot.write(data);
  }

  async listFilters(ctx: NativeManagementContext): Promise<NativeFilterInfo[]> {
    this.calls.push({ fn: 'listFilters', args: [ctx] });
    return this.filters.map((f) => ({ ...f }));
  }

  async listInstances(ctx: NativeManagementContext, filter: string): Promise<NativeInstanceInfo[]> {
    this.calls.push({ fn: 'listInstances', args: [ctx, filter] });
    const list = this.instances.get(filter.toLowerCase());
    if (list === undefined) throw this.makeError({ origin: 'hresult', hresult: 0x801f0013, syscall: 'FilterInstanceFindFirst' });
    return list.map((i) => ({ ...i }));
  }

  async listVolumes(ctx: NativeManagementContext): Promise<NativeVolumeInfo[]> {
    this.calls.push({ fn: 'listVolumes', args: [ctx] });
    return this.volumes.map((v) => ({ ...v }));
  }

  async loadFilter(ctx: NativeManagementContext, filter: string): Promise<void> {
    this.calls.push({ fn: 'loadFilter', args: [ctx, filter] });
    const ports = this.filterPorts.get(filter.toLowerCase());
    if (ports === undefined) throw this.makeError(win32Error(2, 'FilterLoad', { detail: `no filter ${filter}` }));
    if (this.loaded.has(filter.toLowerCase())) throw this.makeError(win32Error(1056, 'FilterLoad'));
    this.loaded.add(filter.toLowerCase());
    this.knownPorts ??= new Set();
    for (const p of ports) this.knownPorts.add(p.toLowerCase());
  }

  async unloadFilter(ctx: NativeManagementContext, filter: string): Promise<void> {
    this.calls.push({ fn: 'unloadFilter', args: [ctx, filter] });
    if (!this.loaded.delete(filter.toLowerCase())) throw this.makeError({ origin: 'hresult', hresult: 0x801f0013, syscall: 'FilterUnload' });
  }

  async attachFilter(ctx: NativeManagementContext, filter: string, volume: string, instanceName: string): Promise<string> {
    this.calls.push({ fn: 'attachFilter', args: [ctx, filter, volume, instanceName] });
    if (!this.volumes.some((v) => v.name === volume || v.dosName === volume)) {
      throw this.makeError({ origin: 'hresult', hresult: 0x801f0014, syscall: 'FilterAttach' });
    }
    return instanceName === '' ? `${filter} Instance` : instanceName;
  }

  async detachFilter(ctx: NativeManagementContext, filter: string, volume: string, instanceName: string): Promise<void> {
    this.calls.push({ fn: 'detachFilter', args: [ctx, filter, volume, instanceName] });
  }

  async getDosName(ctx: NativeManagementContext, volume: string): Promise<string> {
    this.calls.push({ fn: 'getDosName', args: [ctx, volume] });
    const v = this.volumes.find((x) => x.name === volume);
    if (v === undefined) throw this.makeError({ origin: 'hresult', hresult: 0x801f0014, syscall: 'FilterGetDosName' });
    return v.dosName;
  }

  statusTable(): NativeStatusEntry[] {
    return nativeStatusRows();
  }

  hresultFromNtStatus(ntstatus: number): number {
    return hresultFromNtStatus(ntstatus);
  }
}
