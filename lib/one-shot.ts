// One-shot native requests that bring bytes back: a mailslot's ReadFile, a port's
// FilterSendMessage. Each gets a token; native answers it exactly once, in a later batch
// (readTokens/readErrors/readOffsets/readLengths, lib/binding.ts), and the bytes are a view
// into that batch's buffer, like a message's payload.
import type { NativeBatch } from './binding.js';
import { ProtocolError } from './errors.js';

/** A request waiting for its outcome. */
export interface OneShot {
  resolve(bytes: Uint8Array): void;
  reject(error: unknown): void;
}

const resolveWith = (entry: OneShot, bytes: Uint8Array): void => entry.resolve(bytes);
const rejectWith = (entry: OneShot, error: Error): void => entry.reject(error);

/** The pending requests of one mailslot or port, by token. */
export class OneShots<E extends OneShot> {
  /** Names a request in errors, e.g. `mailslot \\.\mailslot\x: read`. */
  readonly #what: string;
  #nextToken = 1;
  readonly #pending = new Map<number, E>();

  constructor(what: string) {
    this.#what = what;
  }

  /** Registers `entry` under a fresh token and starts the native request; if that throws, `entry` is rejected with it. */
  start(entry: E, call: (token: number) => void): void {
    const token = this.#nextToken++;
    this.#pending.set(token, entry);
    try {
      call(token);
    } catch (error) {
      this.#pending.delete(token);
      entry.reject(error);
    }
  }

  /**
   * Settles every request `batch` answers: `done` with its bytes, or `failed` with its error
   * (by default the entry's own resolve/reject). Tokens no longer pending (given up on at
   * close) are skipped.
   */
  settle(
    batch: NativeBatch,
    done: (entry: E, bytes: Uint8Array) => void = resolveWith,
    failed: (entry: E, error: Error) => void = rejectWith,
  ): void {
    for (let i = 0; i < batch.readTokens.length; i++) {
      const token = batch.readTokens[i] ?? 0;
      const entry = this.#pending.get(token);
      if (entry === undefined) continue;
      this.#pending.delete(token);
      const error = batch.readErrors[i] ?? null;
      if (error !== null) {
        failed(entry, error);
        continue;
      }
      const offset = batch.readOffsets[i] ?? 0;
      const length = batch.readLengths[i] ?? 0;
      if (offset + length > batch.buffer.byteLength) {
        entry.reject(new ProtocolError(`${this.#what} ${token} delivered ${offset}+${length} of a ${batch.buffer.byteLength}-byte batch`));
        continue;
      }
      done(entry, new Uint8Array(batch.buffer, offset, length));
    }
  }

  /** Rejects every pending request with a fresh `errorFor()` and forgets them; their outcomes, if any still come, are skipped. */
  rejectAll(errorFor: () => unknown): void {
    for (const entry of this.#pending.values()) entry.reject(errorFor());
    this.#pending.clear();
  }
}
