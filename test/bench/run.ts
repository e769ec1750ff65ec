// `npm run bench [-- --smoke | --quick] [--only=rt,send,codec,mem] [--reps=N]`
// (docs/benchmarks.md). Measures, on one machine in one run, Node through fltport against a
// C++ client on the same transport (native/bench/BenchClient.cc), so results are ratios:
//   rt     round trips: fltsim-host floods 1 KiB messages expecting 8-byte replies with 1, 4
//          and 16 kernel senders; A = C++ client, B = async iterator + reply(), C = serve()
//   send   FilterSendMessage 64 B in / 64 B out (MessageNotify echo), 1 and 4 callers
//   codec  decode/encode of a 1 064-byte struct: fltport codec, hand-written DataView, binary-parser
//   mem    RSS and heap before/after 1M round trips (100k with --quick, 5k with --smoke)
// Variants are interleaved (A B C, A B C, …) and medians taken; no thresholds: this prints.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect, type Port } from '../../lib/index.js';
import { SimControl } from '../helpers/sim-control.js';
import { SimHost } from '../helpers/sim-host.js';
import { median, runCodecBench } from './codec.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const quick = argv.includes('--quick');
const only = new Set((argv.find((a) => a.startsWith('--only='))?.slice(7) ?? 'rt,send,codec,mem').split(','));
const repsArg = argv.find((a) => a.startsWith('--reps='));
const reps = repsArg ? Number(repsArg.slice(7)) : smoke ? 1 : quick ? 3 : 5;
// For profiling one variant: --clients=B --inflight=16 (round trips), --callers=1 (send).
const listArg = (name: string, all: string[]) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(',') ?? all;
const rtClients = listArg('clients', ['A', 'B', 'C']) as RtClient[];
const inflights = listArg('inflight', ['1', '4', '16']).map(Number);
const sendCallers = listArg('callers', ['1', '4']).map(Number);

// Not under build/: node-gyp (npm ci, build:native, rebuild) removes that whole directory.
const buildDir = join(root, '.cache', 'bench-build');
const hostBin = join(buildDir, 'fltsim-host');
const clientBin = join(buildDir, 'fltport-bench-client');
const PORT_RT = '\\BenchRoundTrip';
const PORT_SEND = '\\BenchSend';

// ---- build: Release fltsim-host and the C++ client (CMake, its own build directory) ----------
// Both sides of every comparison use this Release host; the addon is node-gyp's Release build.

function buildNative(): void {
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] as ('ignore' | 'inherit')[], cwd: root };
  if (!existsSync(join(buildDir, 'CMakeCache.txt'))) {
    execFileSync('cmake', ['-S', root, '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release'], quiet);
  }
  execFileSync('cmake', ['--build', buildDir, '--target', 'fltsim-host', 'fltport-bench-client', '-j', '2'], quiet);
}

// Others rebuild the addon in this checkout at any time (node-gyp removes build/ first): the
// bench loads its own copy of build/Release/fltport.node, taken once at the start.
async function pinAddon(): Promise<void> {
  if (process.env['FLTPORT_ADDON_PATH']) return;
  const built = join(root, 'build', 'Release', 'fltport.node');
  for (let waited = 0; !existsSync(built); waited += 1) {
    if (waited === 0) console.log('waiting for build/Release/fltport.node (being rebuilt?)');
    if (waited >= 300) throw new Error(`${built} does not exist: run npm run build:native`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, 500)); // a linker may still be writing it
  const copy = join(buildDir, 'fltport.node');
  mkdirSync(buildDir, { recursive: true });
  copyFileSync(built, copy);
  process.env['FLTPORT_ADDON_PATH'] = copy;
}

// ---- measuring helpers ------------------------------------------------------------------------

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s
function procCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK; // utime, stime
}
function selfCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
// On-CPU time of this process's JS thread and of its port I/O threads ('fltport-port'), in µs,
// from /proc/self/task/<tid>/schedstat (nanoseconds, unlike stat's 10 ms ticks): where the
// Node client's CPU goes. Threads that ended are not counted (none end during a flood).
function threadCpuMicros(): { js: number; io: number } {
  const onCpu = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  let io = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'fltport-port') io += onCpu(tid);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return { js: onCpu(String(process.pid)), io };
}

interface RtResult {
  rate: number; // messages/s
  p50: number; // µs
  p99: number;
  p999: number;
  clientCpu: number; // µs per message
  hostCpu: number;
  jsCpu: number; // Node only: µs per message on the JS thread, and on the port's I/O thread
  ioCpu: number;
}

class Bench {
  constructor(
    readonly host: SimHost,
    readonly control: SimControl,
  ) {}

  async newestConn(): Promise<string> {
    return (await this.control.ok('conn', { id: 'newest' }))['id']!;
  }

  /** Floods `count` messages from `senders` driver threads at connection `conn`; the host's summary. */
  async flood(conn: string, count: number, senders: number, size: number, reply: number): Promise<Record<string, string>> {
    const r = await this.control.ok('send', { conn, size, reply, count, concurrency: senders, summary: 1 });
    const ev = await this.control.event('send-summary', { first: r['first']! }, 600_000);
    if (ev.fields['failed'] !== '0') throw new Error(`host: ${ev.fields['failed']} of ${count} sends failed`);
    return ev.fields;
  }
}

function toRt(summary: Record<string, string>, count: number, clientCpu: number, hostCpu: number, threads = { js: NaN, io: NaN }): RtResult {
  const us = (k: string) => Number(summary[k]) / 1000;
  return {
    rate: count / (Number(summary['elapsed_ns']) / 1e9),
    p50: us('p50_ns'),
    p99: us('p99_ns'),
    p999: us('p999_ns'),
    clientCpu: clientCpu / count,
    hostCpu: hostCpu / count,
    jsCpu: threads.js / count,
    ioCpu: threads.io / count,
  };
}

// A line-oriented child (the C++ client): waits for lines matching a pattern.
class LineChild {
  readonly lines: string[] = [];
  #waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const w of [...this.#waiters]) {
        const m = w.re.exec(line);
        if (m) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  }
  wait(re: RegExp, timeoutMs = 600_000): Promise<RegExpExecArray> {
    return new Promise((resolveWait, reject) => {
      const timer = setTimeout(() => reject(new Error(`C++ client: no ${re} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolveWait(m);
        },
      });
      this.child.once('exit', (code) => reject(new Error(`C++ client exited (${code}) before ${re}`)));
    });
  }
}

function spawnClient(args: string[], runtimeDir: string): LineChild {
  const child = spawn(clientBin, [...args, '--runtime-dir', runtimeDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new LineChild(child);
}

const REPLY8 = new Uint8Array(8).fill(0x5a);

type RtClient = 'A' | 'B' | 'C';

async function roundTrip(b: Bench, client: RtClient, senders: number, count: number): Promise<RtResult> {
  const hostPid = b.host.child.pid!;
  const dir = b.host.runtimeDir;
  if (client === 'A') {
    const c = spawnClient(['serve', '--port', PORT_RT, '--concurrency', '16', '--reply-size', '8'], dir);
    await c.wait(/^ready$/);
    const conn = await b.newestConn();
    await b.control.ok('conn.wait', { id: conn, min_gets: 16 });
    c.child.stdin!.write('mark\n');
    const m0 = await c.wait(/^mark messages=(\d+) cpu_us=(\d+)$/);
    const h0 = procCpuMicros(hostPid);
    const summary = await b.flood(conn, count, senders, 1024, 8);
    const h1 = procCpuMicros(hostPid);
    c.child.stdin!.write('mark\n');
    const m1 = await c.wait(/^mark messages=(\d+) cpu_us=(\d+)$/);
    c.child.stdin!.end();
    await c.wait(/^done /);
    if (Number(m1[1]) - Number(m0[1]) !== count) throw new Error(`C++ client saw ${Number(m1[1]) - Number(m0[1])} of ${count}`);
    return toRt(summary, count, Number(m1[2]) - Number(m0[2]), h1 - h0);
  }
  const port = await connect(PORT_RT, { simRuntimeDir: dir, concurrency: 16 });
  // --batches: messages per native batch (messages of one batch share receivedAt); costs a
  // diagnostics_channel publish per message, so not in the measured runs.
  let batches = 0;
  let lastAt = -1;
  const onMessage = (m: unknown) => {
    const at = (m as { message: { receivedAt: number } }).message.receivedAt;
    if (at !== lastAt) batches++;
    lastAt = at;
  };
  if (argv.includes('--batches')) diagnostics.subscribe('fltport:message', onMessage);
  try {
    const conn = await b.newestConn();
    let seen = 0;
    let done: Promise<unknown>;
    if (client === 'B') {
      done = (async () => {
        for await (const msg of port) {
          seen++;
          msg.reply(REPLY8).catch((e: unknown) => {
            console.error('reply failed', e);
          });
        }
      })();
    } else {
      done = port.serve(() => {
        seen++;
        return REPLY8;
      });
    }
    await b.control.ok('conn.wait', { id: conn, min_gets: 16 });
    const c0 = selfCpuMicros();
    const t0 = threadCpuMicros();
    const h0 = procCpuMicros(hostPid);
    const summary = await b.flood(conn, count, senders, 1024, 8);
    const h1 = procCpuMicros(hostPid);
    const t1 = threadCpuMicros();
    const c1 = selfCpuMicros();
    if (seen !== count) throw new Error(`Node client ${client} saw ${seen} of ${count}`);
    await port.close();
    await done;
    if (batches > 0) console.log(`client ${client}, ${senders} in flight: ${f(count / batches, 2)} messages per batch`);
    return toRt(summary, count, c1 - c0, h1 - h0, { js: t1.js - t0.js, io: t1.io - t0.io });
  } finally {
    diagnostics.unsubscribe('fltport:message', onMessage);
    await port.close();
  }
}

interface SendResult {
  rate: number;
  p50: number;
  p99: number;
  clientCpu: number;
}

async function sendBench(b: Bench, client: 'C' | 'Node', callers: number, count: number): Promise<SendResult> {
  const dir = b.host.runtimeDir;
  if (client === 'C') {
    const c = spawnClient(['send', '--port', PORT_SEND, '--callers', String(callers), '--count', String(count), '--size', '64'], dir);
    const m = await c.wait(/^done calls=(\d+) failed=(\d+) elapsed_ns=(\d+) p50_ns=(\d+) p99_ns=(\d+) p999_ns=(\d+) cpu_us=(\d+)$/);
    if (m[2] !== '0') throw new Error(`C++ send: ${m[2]} failed`);
    return { rate: count / (Number(m[3]) / 1e9), p50: Number(m[4]) / 1000, p99: Number(m[5]) / 1000, clientCpu: Number(m[7]) / count };
  }
  const port = await connect(PORT_SEND, { simRuntimeDir: dir, concurrency: 1 });
  try {
    const input = new Uint8Array(64).fill(0x11);
    const lat = new Float64Array(count);
    let next = 0;
    const c0 = selfCpuMicros();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < count) {
          const i = next++;
          const s = performance.now();
          const out = (await port.send(input, { replyCapacity: 64 })) as Uint8Array;
          lat[i] = performance.now() - s;
          if (out.byteLength !== 64) throw new Error(`send returned ${out.byteLength} bytes`);
        }
      }),
    );
    const elapsed = performance.now() - t0;
    const cpu = selfCpuMicros() - c0;
    const sorted = Array.from(lat).sort((x, y) => x - y);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))]! * 1000;
    return { rate: count / (elapsed / 1000), p50: pct(0.5), p99: pct(0.99), clientCpu: cpu / count };
  } finally {
    await port.close();
  }
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  (runInNewContext('gc') as () => void)();
}

async function memoryBench(b: Bench, total: number): Promise<Record<string, number>> {
  const port: Port = await connect(PORT_RT, { simRuntimeDir: b.host.runtimeDir, concurrency: 16 });
  const conn = await b.newestConn();
  let seen = 0;
  const done = (async () => {
    for await (const msg of port) {
      seen++;
      msg.reply(REPLY8).catch((e: unknown) => console.error('reply failed', e));
    }
  })();
  await b.control.ok('conn.wait', { id: conn, min_gets: 16 });
  // Warm-up so that JIT code, pools and the batch buffers' steady state are in "before".
  await b.flood(conn, Math.min(20_000, total), 16, 1024, 8);
  gc();
  const before = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, ext: process.memoryUsage().external };
  const t0 = performance.now();
  const chunk = 100_000;
  for (let sent = 0; sent < total; sent += chunk) await b.flood(conn, Math.min(chunk, total - sent), 16, 1024, 8);
  const seconds = (performance.now() - t0) / 1000;
  gc();
  const after = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, ext: process.memoryUsage().external };
  await port.close();
  await done;
  const mb = (n: number) => n / (1024 * 1024);
  return {
    total,
    seconds,
    seen,
    rssBefore: mb(before.rss),
    rssAfter: mb(after.rss),
    heapBefore: mb(before.heap),
    heapAfter: mb(after.heap),
    extBefore: mb(before.ext),
    extAfter: mb(after.ext),
  };
}

// ---- the run ------------------------------------------------------------------------------------

const f = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ratio = (a: number, b: number) => (Number.isFinite(b) ? f(a / b, 2) : 'n/a');
const table: string[][] = [];
const row = (...cells: string[]) => table.push(cells);

async function main(): Promise<void> {
  const t0 = performance.now();
  const cpu = cpus();
  console.log(`load average at start: ${loadavg().map((x) => f(x, 2)).join(' ')}`);
  console.log(`fltport bench${smoke ? ' (smoke)' : quick ? ' (quick)' : ''}: ${cpu.length} cores, ${cpu[0]?.model ?? '?'}, node ${process.version}, reps ${reps}`);
  buildNative();
  await pinAddon();
  process.env['FLTSIM_HOST'] ??= hostBin; // an explicit one (e.g. a valgrind wrapper) wins
  const host = await SimHost.start({ logLevel: 'warn' });
  const control = await SimControl.open(host.socketPath).catch(async (e: unknown) => {
    await host.stop();
    throw e;
  });
  try {
    await control.ok('watch', { events: 'driver' });
    await control.ok('port.create', { name: PORT_RT, max: 64 });
    await control.ok('port.create', { name: PORT_SEND, max: 64, notify: 'echo' });
    const b = new Bench(host, control);

    if (only.has('rt')) {
      const perRun: Record<number, number> = smoke ? { 1: 300, 4: 500, 16: 1000 } : quick ? { 1: 5_000, 4: 10_000, 16: 20_000 } : { 1: 20_000, 4: 40_000, 16: 80_000 };
      const results = new Map<string, RtResult[]>();
      for (let r = 0; r < reps; r++) {
        for (const k of inflights) {
          const order: RtClient[] = r % 2 === 0 ? rtClients : [...rtClients].reverse();
          for (const client of order) {
            const res = await roundTrip(b, client, k, perRun[k]!);
            const key = `${client}/${k}`;
            results.set(key, [...(results.get(key) ?? []), res]);
          }
        }
      }
      const med = (key: string, field: keyof RtResult) => median(results.get(key)!.map((x) => x[field]));
      row('Round trips (1 KiB msg, 8 B reply)', 'msgs/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'client CPU µs/msg', 'host CPU µs/msg', 'rate vs A', 'p99 vs A');
      for (const k of inflights) {
        for (const client of rtClients) {
          const key = `${client}/${k}`;
          const name = { A: 'A C++ backend', B: 'B iterator+reply()', C: 'C serve()' }[client];
          row(`  ${k} in flight, ${name}`, f(med(key, 'rate'), 0), f(med(key, 'p50')), f(med(key, 'p99')), f(med(key, 'p999')),
            f(med(key, 'clientCpu'), 2), f(med(key, 'hostCpu'), 2),
            ratio(med(key, 'rate'), results.has(`A/${k}`) ? med(`A/${k}`, 'rate') : NaN),
            ratio(med(key, 'p99'), results.has(`A/${k}`) ? med(`A/${k}`, 'p99') : NaN));
        }
      }
      // Where the Node client's CPU goes (schedstat, ns resolution); the rest of "client CPU"
      // is V8's and libuv's helper threads.
      const nodeClients = rtClients.filter((c) => c !== 'A');
      if (nodeClients.length > 0) {
        row('  Node client threads, µs/msg', 'JS thread', 'I/O thread', '', '', '', '', '', '');
        for (const k of inflights) {
          for (const client of nodeClients) {
            const key = `${client}/${k}`;
            row(`    ${k} in flight, ${client}`, f(med(key, 'jsCpu'), 2), f(med(key, 'ioCpu'), 2));
          }
        }
      }
    }

    if (only.has('send')) {
      const perRun = smoke ? 300 : quick ? 5_000 : 20_000;
      const results = new Map<string, SendResult[]>();
      for (let r = 0; r < reps; r++) {
        for (const k of sendCallers) {
          for (const client of (r % 2 === 0 ? ['C', 'Node'] : ['Node', 'C']) as ('C' | 'Node')[]) {
            const key = `${client}/${k}`;
            results.set(key, [...(results.get(key) ?? []), await sendBench(b, client, k, perRun)]);
          }
        }
      }
      const med = (key: string, field: keyof SendResult) => median(results.get(key)!.map((x) => x[field]));
      row('FilterSendMessage (64 B echo)', 'calls/s', 'p50 µs', 'p99 µs', '', 'client CPU µs/call', '', 'rate vs C', 'p99 vs C');
      for (const k of sendCallers) {
        for (const client of ['C', 'Node']) {
          const key = `${client}/${k}`;
          row(`  ${k} caller${k > 1 ? 's' : ''}, ${client === 'C' ? 'C++ PortBackend::Send' : 'Node port.send'}`, f(med(key, 'rate'), 0),
            f(med(key, 'p50')), f(med(key, 'p99')), '', f(med(key, 'clientCpu'), 2), '',
            f(med(key, 'rate') / med(`C/${k}`, 'rate'), 2), f(med(key, 'p99') / med(`C/${k}`, 'p99'), 2));
        }
      }
    }

    if (only.has('codec')) {
      const m = runCodecBench(smoke ? 1 : quick ? 3 : 7, smoke ? 50 : 300);
      row('Codecs (FILE_EVENT, 1 064 B)', 'ops/s', '', '', '', '', '', 'vs hand', 'vs binary-parser');
      for (const [name, ops] of m) {
        const kind = name.split(' ')[0]!;
        const vsBp = kind === 'decode' ? f(ops / m.get('decode binary-parser')!, 2) : 'n/a';
        row(`  ${name}`, f(ops, 0), '', '', '', '', '', f(ops / m.get(`${kind} hand`)!, 2), vsBp);
      }
    }

    if (only.has('mem')) {
      const total = smoke ? 5_000 : quick ? 100_000 : 1_000_000;
      const m = await memoryBench(b, total);
      row(`Memory (Node B, ${f(total, 0)} round trips, ${f(m['seconds']!)} s)`, 'before MB', 'after MB', 'growth MB', '', '', '', '', '');
      row('  RSS', f(m['rssBefore']!), f(m['rssAfter']!), f(m['rssAfter']! - m['rssBefore']!));
      row('  V8 heap used', f(m['heapBefore']!), f(m['heapAfter']!), f(m['heapAfter']! - m['heapBefore']!));
      row('  external (ArrayBuffers)', f(m['extBefore']!), f(m['extAfter']!), f(m['extAfter']! - m['extBefore']!));
    }
  } finally {
    control.close();
    await host.stop();
  }
  printTable();
  // The machine is shared: a load average above the core count means the numbers are noisy.
  console.log(`bench: done in ${f((performance.now() - t0) / 1000)} s; load average ${loadavg().map((x) => f(x, 2)).join(' ')} on ${cpus().length} cores`);
}

function printTable(): void {
  const widths: number[] = [];
  for (const r of table) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  console.log('');
  for (const r of table) {
    const header = !r[0]!.startsWith('  ');
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | '));
    if (header) console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  }
}

await main();
