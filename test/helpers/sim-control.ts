// A client of fltsim-host's control channel (docs/fltsim.md): send "verb key=value" lines,
// get "ok ..."/"error ..." results, collect "event ..." lines. Values are percent-encoded on
// the wire; here they are plain strings.
import { FrameType, SimStream, StreamKind } from './sim-wire.js';

/** "%XX" for every byte outside 0x21..0x7E and for '%' and '='. */
export function encodeControlValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte < 0x21 || byte > 0x7e || byte === 0x25 || byte === 0x3d) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += String.fromCharCode(byte);
    }
  }
  return out;
}

export function decodeControlValue(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '%') {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface ControlLine {
  head: string;
  fields: Record<string, string>;
  raw: string;
}

function parseFields(items: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new Error(`control line field without '=': ${item}`);
    fields[item.slice(0, eq)] = decodeControlValue(item.slice(eq + 1));
  }
  return fields;
}

/** "head k=v ..." (a result line). */
export function parseControlLine(raw: string): ControlLine {
  const [head = '', ...rest] = raw.split(' ').filter((s) => s.length > 0);
  return { head, fields: parseFields(rest), raw };
}

/** Builds "verb k=v ..." with values encoded. Undefined values are left out. */
export function controlLine(verb: string, args: Record<string, string | number | bigint | boolean | undefined> = {}): string {
  let line = verb;
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined) continue;
    const text = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    line += ` ${k}=${encodeControlValue(text)}`;
  }
  return line;
}

export interface ControlResult {
  ok: boolean;
  /** NTSTATUS of an "error" result; 0 for "ok". */
  status: number;
  fields: Record<string, string>;
  raw: string;
}

/** An "event" line: `name` is its first word after "event". */
export interface ControlEvent {
  name: string;
  fields: Record<string, string>;
  raw: string;
}

export class SimControl {
  readonly stream: SimStream;
  /** Events received and not yet returned by event(). */
  readonly events: ControlEvent[] = [];
  readonly #consumed: ControlEvent[] = [];

  private constructor(stream: SimStream) {
    this.stream = stream;
  }

  static async open(socketPath: string): Promise<SimControl> {
    return new SimControl(await SimStream.open(socketPath, StreamKind.CONTROL));
  }

  /** Sends one command line and waits for its result. */
  async command(line: string, timeoutMs = 15_000): Promise<ControlResult> {
    const tag = this.stream.tag();
    this.stream.send(FrameType.CONTROL, tag, Buffer.from(line, 'utf8'));
    const frame = await this.stream.waitFor((f) => f.type === FrameType.CONTROL_RESULT && f.tag === tag, timeoutMs);
    this.#drainEvents();
    const parsed = parseControlLine(frame.body.toString('utf8'));
    if (parsed.head !== 'ok' && parsed.head !== 'error') throw new Error(`not a control result: ${parsed.raw}`);
    const ok = parsed.head === 'ok';
    return { ok, status: ok ? 0 : Number(parsed.fields['status'] ?? 'NaN') >>> 0, fields: parsed.fields, raw: parsed.raw };
  }

  /** command(verb, args), throwing on an "error" result. */
  async ok(verb: string, args: Record<string, string | number | bigint | boolean | undefined> = {}): Promise<Record<string, string>> {
    const r = await this.command(controlLine(verb, args));
    if (!r.ok) throw new Error(`${verb} failed: ${r.raw}`);
    return r.fields;
  }

  /** command(verb, args), expecting an "error" result; returns its NTSTATUS. */
  async fails(verb: string, args: Record<string, string | number | bigint | boolean | undefined> = {}): Promise<number> {
    const r = await this.command(controlLine(verb, args));
    if (r.ok) throw new Error(`${verb} unexpectedly succeeded: ${r.raw}`);
    return r.status;
  }

  /**
   * The next event (in arrival order, each returned once) named `name` whose fields include
   * `match`; waits for it.
   */
  async event(name: string, match: Record<string, string> = {}, timeoutMs = 10_000): Promise<ControlEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.#drainEvents();
      for (let i = 0; i < this.events.length; i++) {
        const e = this.events[i] as ControlEvent;
        if (e.name === name && Object.entries(match).every(([k, v]) => e.fields[k] === v)) {
          // Keep earlier unmatched events for later calls; mark this one as consumed.
          this.events.splice(i, 1);
          this.#consumed.push(e);
          return e;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event ${name} ${JSON.stringify(match)}; seen: ${this.events.map((e) => e.raw).join(' | ')}`);
      await this.stream
        .waitFor((f) => f.type === FrameType.CONTROL_EVENT, left)
        .then((f) => this.#push(f.body.toString('utf8')))
        .catch(() => undefined);
    }
  }

  /** Every event seen so far named `name` (consumed or not). */
  seen(name: string): ControlEvent[] {
    this.#drainEvents();
    return [...this.#consumed, ...this.events].filter((e) => e.name === name);
  }

  close(): void {
    this.stream.close();
  }

  #drainEvents(): void {
    for (const f of this.stream.takeAll((x) => x.type === FrameType.CONTROL_EVENT)) {
      this.#push(f.body.toString('utf8'));
    }
  }

  #push(text: string): void {
    const [head, name = '', ...rest] = text.split(' ').filter((s) => s.length > 0);
    if (head !== 'event') throw new Error(`not an event line: ${text}`);
    this.events.push({ name, fields: parseFields(rest), raw: text });
  }
}
