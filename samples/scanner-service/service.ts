// The scanner service: answers the sample driver's scan requests over \FltportSampleScan.
//
//   connect (role scanner, reconnect) → port.serve(scan) → FPS_SCAN_REPLY { Verdict, Reason }
//   notes to \\.\mailslot\fltport\sample: "ping hello" at start, "rescan <path>" after a
//   content detection (rate-limited; never for a rescan, never for a path-only match, so a
//   note cannot cause a loop)
//   live display every `interval` ms, summary at the end.
import { connect, Mailslot, type ConnectOptions, type Port, type PortMessage } from '../../lib/index.js';
import type { ServiceOptions } from './args.js';
import { scan } from './patterns.js';
import * as P from './protocol.js';
import { formatLine, formatLive, ScanStats, type PortNumbers, type Snapshot } from './stats.js';

export interface ScannerIo {
  /** Raw output (the live display writes ANSI sequences here). */
  write(text: string): void;
  /** Whether `write` goes to a terminal (in-place display). */
  isTTY: boolean;
  /** Diagnostics (stderr). */
  log(line: string): void;
}

export interface ScannerResult {
  summary: Snapshot;
  /** Why it stopped. */
  end: 'stopped' | 'duration' | 'disconnected';
  error?: unknown;
}

export interface Scanner {
  readonly port: Port<Uint8Array, P.FPS_SCAN_REPLY>;
  /** Ends serving (in-flight handlers still reply), closes the port; `done` then resolves. */
  stop(): void;
  snapshot(): Snapshot;
  readonly done: Promise<ScannerResult>;
}

const EPOCH_1601_100NS = 116_444_736_000_000_000n;
const now100ns = (): bigint => BigInt(Date.now()) * 10_000n + EPOCH_1601_100NS;
const utf8 = new TextEncoder();

/** At most `perSecond` notes a second: a burst of detections must not fill the 8 KiB mailslot. */
class NoteLimiter {
  #tokens: number;
  #last: number;
  constructor(readonly perSecond: number, now: number) {
    this.#tokens = perSecond;
    this.#last = now;
  }
  take(now: number): boolean {
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#last) / 1000) * this.perSecond);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export async function startScanner(options: ServiceOptions, io: ScannerIo): Promise<Scanner> {
  const stats = new ScanStats(performance.now());
  const connectOptions: ConnectOptions<Uint8Array, P.FPS_SCAN_REPLY> = {
    context: P.FPS_CONNECT_CONTEXT.encode({
      Magic: P.FPS_CONNECT_MAGIC,
      Version: P.FPS_PROTOCOL_VERSION,
      Role: P.FPS_ROLE.FpsRoleScanner,
      Flags: 0,
      Reserved: 0,
    }),
    reply: P.FPS_SCAN_REPLY,
    concurrency: options.concurrency,
    // The largest scan-port message is a scan request (2128 bytes).
    maxMessageSize: P.FPS_SCAN_GET_BUFFER_SIZE - P.FPS_FILTER_MESSAGE_HEADER_SIZE,
  };
  if (options.reconnect) connectOptions.reconnect = { initialDelay: 100, maxDelay: 2_000 };
  if (options.simRuntimeDir !== undefined) connectOptions.simRuntimeDir = options.simRuntimeDir;
  const port = await connect(P.FPS_SCAN_PORT_NAME, connectOptions);

  const mailslotOptions = options.simRuntimeDir !== undefined ? { simRuntimeDir: options.simRuntimeDir } : {};
  const limiter = new NoteLimiter(5, performance.now());
  const note = (text: string): void => {
    if (!options.notes) return;
    const bytes = utf8.encode(text);
    if (bytes.length > P.FPS_MAILSLOT_MAX_NOTE) return;
    Mailslot.write(P.FPS_MAILSLOT_WIN32_NAME, bytes, mailslotOptions).then(
      () => void (stats.counters.notesSent += 1),
      (e: unknown) => {
        stats.counters.noteErrors += 1;
        if (stats.counters.noteErrors === 1) io.log(`scanner: mailslot note failed: ${(e as Error).message}`);
      },
    );
  };

  const handle = (msg: PortMessage<Uint8Array, P.FPS_SCAN_REPLY>): P.FPS_SCAN_REPLY | undefined => {
    stats.event();
    const bytes = msg.bytes;
    if (bytes.length < P.FPS_MESSAGE_HEADER.size) {
      stats.counters.badRequests += 1;
      return undefined;
    }
    const head = P.FPS_MESSAGE_HEADER.decode(bytes);
    if (head.Magic !== P.FPS_MESSAGE_MAGIC || head.Version !== P.FPS_PROTOCOL_VERSION || head.Size !== bytes.length) {
      stats.counters.badRequests += 1;
      return undefined;
    }
    if (head.Type === P.FPS_MESSAGE_TYPE.FpsMsgNotify && !msg.expectsReply) {
      stats.counters.notifies += 1;
      return undefined;
    }
    if (head.Type !== P.FPS_MESSAGE_TYPE.FpsMsgScanRequest || bytes.length !== P.FPS_SCAN_REQUEST.size) {
      stats.counters.badRequests += 1;
      return undefined;
    }
    const started = performance.now();
    const req = P.FPS_SCAN_REQUEST.decode(bytes);
    const path = req.Path.slice(0, Math.min(req.PathLength, P.FPS_MAX_PATH * 2) >>> 1);
    const content = req.Content.subarray(0, Math.min(req.ContentLength, P.FPS_SCAN_BYTES));
    const verdict = scan(options.patterns, { path, content });
    const rescan = req.Operation === P.FPS_OPERATION.FpsOpRescan;
    if (rescan) stats.counters.rescans += 1;
    else stats.counters.scans += 1;
    stats.verdict(verdict.block, verdict.pattern, performance.now() - started);
    if (verdict.block && verdict.target === 'content' && !rescan && limiter.take(performance.now())) note(`rescan ${path}`);
    return {
      Header: {
        Magic: P.FPS_MESSAGE_MAGIC,
        Version: P.FPS_PROTOCOL_VERSION,
        Type: P.FPS_MESSAGE_TYPE.FpsMsgScanReply,
        Size: P.FPS_SCAN_REPLY.size,
        Sequence: req.Header.Sequence,
        Timestamp: now100ns(),
      },
      Verdict: verdict.block ? P.FPS_VERDICT.FpsVerdictBlock : P.FPS_VERDICT.FpsVerdictAllow,
      Reason: verdict.reason,
    };
  };

  const portNumbers = (): PortNumbers => {
    const s = port.stats();
    return { timeouts: s.timeouts, lateReplies: s.lateReplies, reconnects: s.reconnects, handlerErrors: s.handlerErrors, replyErrors: s.replyErrors };
  };

  // ---- display ----
  const mode = options.display === 'auto' ? (io.isTTY ? 'live' : 'lines') : options.display;
  let drawn = 0;
  const render = (final: boolean): void => {
    if (mode === 'none') return;
    let snap = stats.snapshot(performance.now(), portNumbers(), !final);
    // The closing line shows the whole run, not the sliver of an interval since the last one.
    if (final) snap = { ...snap, rate: snap.events / Math.max(1e-3, snap.elapsedMs / 1000), p50: snap.totalP50, p99: snap.totalP99 };
    const status = final ? 'stopped' : port.state === 'open' ? 'serving' : port.state;
    if (mode === 'live') {
      const lines = formatLive(snap, status);
      io.write((drawn ? `\x1b[${drawn}A` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
      drawn = lines.length;
    } else {
      io.write(`${formatLine(snap, status)}\n`);
    }
  };
  const timer = setInterval(() => render(false), options.interval);

  const abort = new AbortController();
  let end: ScannerResult['end'] = 'stopped';
  let durationTimer: NodeJS.Timeout | undefined;
  if (options.duration > 0) {
    durationTimer = setTimeout(() => {
      end = 'duration';
      abort.abort();
    }, options.duration * 1000);
  }

  note('ping hello');
  let errorsLogged = 0;
  const done = port
    .serve(handle, {
      timeout: options.timeout,
      concurrency: options.concurrency,
      signal: abort.signal,
      onError: (error) => {
        if (errorsLogged++ < 3) io.log(`scanner: ${(error as Error).message}`);
      },
    })
    .then(
      () => ({ end }) as Pick<ScannerResult, 'end' | 'error'>,
      (error: unknown) => ({ end: 'disconnected', error }) as Pick<ScannerResult, 'end' | 'error'>,
    )
    .then(async (result) => {
      clearInterval(timer);
      if (durationTimer) clearTimeout(durationTimer);
      await port.close();
      render(true);
      return { ...result, summary: stats.snapshot(performance.now(), portNumbers(), false) } as ScannerResult;
    });

  return {
    port,
    stop: () => abort.abort(),
    snapshot: () => stats.snapshot(performance.now(), portNumbers(), false),
    done,
  };
}
