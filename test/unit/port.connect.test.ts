import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';

import {
  AbortError,
  AccessDeniedError,
  ConnectionLimitError,
  InvalidArgumentError,
  PortNotFoundError,
  SimulatorUnavailableError,
} from '../../lib/errors.js';
import { connect } from '../../lib/port.js';
import { FakeBinding, ntError } from '../helpers/fake-binding.js';

describe('connect()', () => {
  it('passes validated options to native, with header-inclusive buffer sizes', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\FltportSample', {
      binding,
      concurrency: 8,
      maxMessageSize: 1000,
      highWaterMark: 5,
      simRuntimeDir: '/tmp/sim',
      context: new Uint8Array([1, 2, 3]),
    });
    expect(binding.setErrorFactoryCalls).toBe(1);
    expect(binding.connectCalls).toEqual([
      {
        name: '\\FltportSample',
        flags: 0,
        context: new Uint8Array([1, 2, 3]),
        concurrency: 8,
        initialBufferSize: 1016,
        maxMessageSize: 1016,
        highWaterMark: 5,
        simRuntimeDir: '/tmp/sim',
      },
    ]);
    expect(port.state).toBe('open');
    expect(port.connection).toBe(1);
    await port.close();
  });

  it('uses defaults: 16 receives, 64 KiB messages, 4 KiB first buffer, no context', async () => {
    const binding = new FakeBinding();
    await using _port = await connect('\\P', { binding });
    expect(binding.connectCalls[0]).toMatchObject({
      concurrency: 16,
      maxMessageSize: 65_536 + 16,
      initialBufferSize: 4096,
      highWaterMark: 64,
      context: null,
      simRuntimeDir: '',
    });
  });

  it('encodes a context value with contextCodec', async () => {
    const binding = new FakeBinding();
    const codec = { encode: (v: { pid: number }) => new Uint8Array(new Uint32Array([v.pid]).buffer) };
    await using _port = await connect('\\P', { binding, context: { pid: 0x01020304 }, contextCodec: codec });
    expect(binding.connectCalls[0]?.context).toEqual(new Uint8Array([4, 3, 2, 1]));
  });

  it('refuses a name without the leading backslash and explains why, before any native call', async () => {
    const binding = new FakeBinding();
    const err = await connect('FltportSample', { binding }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).code).toBe('FLTPORT_INVALID_ARGUMENT');
    expect((err as Error).message).toContain('"\\\\FltportSample"');
    expect((err as Error).message).toContain('0x80070002');
    expect(binding.connectCalls).toHaveLength(0);
  });

  it.each([
    ['concurrency', { concurrency: 0 }, 'concurrency must be between 1 and 1024, got 0'],
    ['concurrency', { concurrency: 1025 }, 'concurrency must be between 1 and 1024, got 1025'],
    ['maxMessageSize', { maxMessageSize: 1.5 }, 'maxMessageSize must be an integer'],
    ['highWaterMark', { highWaterMark: 0 }, 'highWaterMark must be between 1 and 65536'],
    ['context', { context: new Uint8Array(0xffe8) }, 'context is 65512 bytes'],
    ['typo', { concurency: 4 }, 'option "concurency" is not known'],
    ['reconnect', { reconnect: { factor: 0.5 } }, 'reconnect.factor must be a finite number >= 1'],
    ['reconnect', { reconnect: { initialDelay: 500, maxDelay: 100 } }, 'reconnect.maxDelay (100) must be >= reconnect.initialDelay (500)'],
    ['message', { message: { encode: () => new Uint8Array() } }, 'message must be a codec with a decode(bytes) method'],
    ['load', { load: '' }, 'load must be a filter (service) name'],
  ])('rejects a bad %s option with a message naming it', async (_what, options, text) => {
    const binding = new FakeBinding();
    const err = await connect('\\P', { binding, ...(options as object) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(text);
    expect(binding.connectCalls).toHaveLength(0);
  });

  it('explains port-not-found with the name, keeping the numbers', async () => {
    const binding = new FakeBinding();
    binding.knownPorts = new Set();
    const err = (await connect('\\Missing', { binding }).catch((e: unknown) => e)) as PortNotFoundError;
    expect(err).toBeInstanceOf(PortNotFoundError);
    expect(err.code).toBe('FLTPORT_NOT_FOUND');
    expect(err.portName).toBe('\\Missing');
    expect(err.hresult).toBe(0x80070002);
    expect(err.ntstatus).toBe(0xc0000034);
    expect(err.message).toContain('not loaded');
    expect(err.message).toContain('{ load:');
  });

  it('explains access denied and the connection limit', async () => {
    const binding = new FakeBinding();
    binding.connectPlan.push(ntError(0xc0000022, 'FilterConnectCommunicationPort'), ntError(0xc0000246, 'FilterConnectCommunicationPort'));
    const denied = (await connect('\\P', { binding }).catch((e: unknown) => e)) as AccessDeniedError;
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect(denied.hresult).toBe(0x80070005);
    expect(denied.message).toContain('elevated');
    const limit = (await connect('\\P', { binding }).catch((e: unknown) => e)) as ConnectionLimitError;
    expect(limit).toBeInstanceOf(ConnectionLimitError);
    expect(limit.hresult).toBe(0x800704d4);
    expect(limit.message).toContain('MaxConnections');
  });

  it('reports a missing simulator as FLTPORT_SIM_UNAVAILABLE with how to start it', async () => {
    const binding = new FakeBinding();
    // ECONNREFUSED in the host's numbering (111 on Linux), as the fltsim transport reports it.
    const { ECONNREFUSED } = constants.errno;
    binding.connectPlan.push({ origin: 'errno', errno: ECONNREFUSED, hresult: 0x80004005, syscall: 'connect', detail: '/run/fltsim/fltsim.sock' });
    const err = (await connect('\\P', { binding }).catch((e: unknown) => e)) as SimulatorUnavailableError;
    expect(err).toBeInstanceOf(SimulatorUnavailableError);
    expect(err.errno).toBe(ECONNREFUSED);
    expect(err.message).toContain('fltport sim');
  });

  it('connect-or-load: loads the filter when the port is missing, then connects', async () => {
    const binding = new FakeBinding();
    binding.knownPorts = new Set();
    binding.filterPorts.set('fltportsample', ['\\FltportSample']);
    await using port = await connect('\\FltportSample', { binding, load: 'FltportSample', simRuntimeDir: '/r' });
    expect(binding.calls.filter((c) => c.fn === 'loadFilter')).toEqual([{ fn: 'loadFilter', args: [{ simRuntimeDir: '/r' }, 'FltportSample'] }]);
    expect(binding.connectCalls).toHaveLength(2);
    expect(port.state).toBe('open');
  });

  it('connect-or-load: a loaded filter whose port is still missing reports the port', async () => {
    const binding = new FakeBinding();
    binding.knownPorts = new Set();
    binding.filterPorts.set('f', ['\\Other']);
    binding.loaded.add('f');
    const err = await connect('\\Wrong', { binding, load: 'F' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortNotFoundError);
    expect(binding.connectCalls).toHaveLength(2);
  });

  it('aborts a pending connect and closes the connection that arrives late', async () => {
    const binding = new FakeBinding();
    let release!: () => void;
    binding.connectPlan.push(new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    const pending = connect('\\P', { binding, signal: ac.signal });
    ac.abort(new Error('shutting down'));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).cause).toEqual(new Error('shutting down'));
    release();
    await new Promise((r) => setImmediate(r));
    expect(binding.lastPort.closeCalls).toBe(1);
  });

  it('rejects at once with an already-aborted signal', async () => {
    const binding = new FakeBinding();
    const err = await connect('\\P', { binding, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(binding.connectCalls).toHaveLength(0);
  });
});
