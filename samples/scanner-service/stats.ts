// Live numbers for the display and the summary. Pure (time is passed in), unit-tested.

/**
 * Latency histogram with log-spaced buckets: 1 µs .. ~100 s, each bucket 2 % wide, so a
 * percentile is exact to within 2 % with constant memory however long the service runs.
 */
export class LatencyHistogram {
  static readonly RATIO = 1.02;
  static readonly MIN_MS = 0.001;
  readonly #counts: Float64Array;
  #total = 0;
  #max = 0;

  constructor() {
    this.#counts = new Float64Array(Math.ceil(Math.log(1e5 / LatencyHistogram.MIN_MS) / Math.log(LatencyHistogram.RATIO)) + 2);
  }

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#max;
  }

  #bucket(ms: number): number {
    if (!(ms > LatencyHistogram.MIN_MS)) return 0;
    const b = Math.ceil(Math.log(ms / LatencyHistogram.MIN_MS) / Math.log(LatencyHistogram.RATIO));
    return Math.min(b, this.#counts.length - 1);
  }

  record(ms: number): void {
    this.#counts[this.#bucket(ms)]! += 1;
    this.#total += 1;
    if (ms > this.#max) this.#max = ms;
  }

  /** The q-quantile (0 < q ≤ 1), as the upper bound of its bucket capped at the largest value seen; NaN when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let b = 0; b < this.#counts.length; b++) {
      seen += this.#counts[b]!;
      if (seen >= rank) return Math.min(LatencyHistogram.MIN_MS * LatencyHistogram.RATIO ** b, this.#max);
    }
    return this.#max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#max = 0;
  }
}

export interface Counters {
  events: number;
  scans: number;
  rescans: number;
  notifies: number;
  allow: number;
  block: number;
  badRequests: number;
  notesSent: number;
  noteErrors: number;
}

export interface PortNumbers {
  timeouts: number;
  lateReplies: number;
  reconnects: number;
  handlerErrors: number;
  replyErrors: number;
}

export interface Snapshot extends Counters, PortNumbers {
  elapsedMs: number;
  /** Events per second over the last interval. */
  rate: number;
  p50: number;
  p99: number;
  /** Over the whole run. */
  totalP50: number;
  totalP99: number;
  maxMs: number;
  byPattern: Record<string, number>;
}

/** Counters, a per-interval and a whole-run latency histogram, and block counts per pattern. */
export class ScanStats {
  readonly counters: Counters = { events: 0, scans: 0, rescans: 0, notifies: 0, allow: 0, block: 0, badRequests: 0, notesSent: 0, noteErrors: 0 };
  readonly byPattern: Record<string, number> = {};
  readonly #interval = new LatencyHistogram();
  readonly #total = new LatencyHistogram();
  readonly #startedAt: number;
  #intervalStart: number;
  #intervalEvents = 0;

  constructor(now: number) {
    this.#startedAt = now;
    this.#intervalStart = now;
  }

  event(): void {
    this.counters.events += 1;
    this.#intervalEvents += 1;
  }

  verdict(block: boolean, pattern: string | null, handlerMs: number): void {
    if (block) {
      this.counters.block += 1;
      if (pattern !== null) this.byPattern[pattern] = (this.byPattern[pattern] ?? 0) + 1;
    } else {
      this.counters.allow += 1;
    }
    this.#interval.record(handlerMs);
    this.#total.record(handlerMs);
  }

  /** Numbers for the display; `roll` starts a new interval (rate, p50/p99 of the interval). */
  snapshot(now: number, port: PortNumbers, roll = true): Snapshot {
    const seconds = Math.max(1e-3, (now - this.#intervalStart) / 1000);
    const snap: Snapshot = {
      ...this.counters,
      ...port,
      elapsedMs: now - this.#startedAt,
      rate: this.#intervalEvents / seconds,
      p50: this.#interval.quantile(0.5),
      p99: this.#interval.quantile(0.99),
      totalP50: this.#total.quantile(0.5),
      totalP99: this.#total.quantile(0.99),
      maxMs: this.#total.max,
      byPattern: { ...this.byPattern },
    };
    if (roll) {
      this.#interval.reset();
      this.#intervalEvents = 0;
      this.#intervalStart = now;
    }
    return snap;
  }
}

const ms = (v: number): string => (Number.isNaN(v) ? '-' : v < 1 ? `${(v * 1000).toFixed(0)}µs` : `${v.toFixed(v < 10 ? 2 : 1)}ms`);

/** The live block (TTY) — one string per line. */
export function formatLive(s: Snapshot, status: string): string[] {
  return [
    `fltport scanner — ${status} — ${(s.elapsedMs / 1000).toFixed(0)}s`,
    `  events/s ${s.rate.toFixed(0).padStart(7)}   events ${s.events}   scans ${s.scans}   rescans ${s.rescans}   notifies ${s.notifies}`,
    `  verdicts allow ${s.allow}   block ${s.block}` + (Object.keys(s.byPattern).length ? `   (${Object.entries(s.byPattern).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''),
    `  handler p50 ${ms(s.p50)}   p99 ${ms(s.p99)}   (run: p50 ${ms(s.totalP50)}, p99 ${ms(s.totalP99)}, max ${ms(s.maxMs)})`,
    `  timeouts ${s.timeouts}   late replies ${s.lateReplies}   reconnects ${s.reconnects}   errors ${s.handlerErrors + s.replyErrors}   notes ${s.notesSent}`,
  ];
}

/** One line per interval when stdout is not a terminal. */
export function formatLine(s: Snapshot, status: string): string {
  return (
    `t=${(s.elapsedMs / 1000).toFixed(0)}s state=${status} events/s=${s.rate.toFixed(0)} events=${s.events} allow=${s.allow} block=${s.block} ` +
    `p50=${ms(s.p50)} p99=${ms(s.p99)} timeouts=${s.timeouts} late=${s.lateReplies} reconnects=${s.reconnects}`
  );
}

export function formatSummary(s: Snapshot): string[] {
  const lines = [
    `scanner summary: ${(s.elapsedMs / 1000).toFixed(1)}s, ${s.events} events (${s.scans} scans, ${s.rescans} rescans, ${s.notifies} notifies)`,
    `  verdicts: allow ${s.allow}, block ${s.block}`,
  ];
  for (const [name, count] of Object.entries(s.byPattern).sort((a, b) => b[1] - a[1])) lines.push(`    ${name}: ${count}`);
  lines.push(
    `  handler latency: p50 ${ms(s.totalP50)}, p99 ${ms(s.totalP99)}, max ${ms(s.maxMs)}`,
    `  timeouts ${s.timeouts}, late replies ${s.lateReplies}, reconnects ${s.reconnects}, handler errors ${s.handlerErrors}, reply errors ${s.replyErrors}, bad requests ${s.badRequests}`,
    `  mailslot notes sent ${s.notesSent}, failed ${s.noteErrors}`,
  );
  return lines;
}
