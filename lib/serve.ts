// port.serve(): a handler per message, bounded concurrency, and a reply for every message
// that expects one, even when the handler throws or misses its deadline. A driver blocked in
// FltSendMessage (maybe with no timeout at all, like the WDK scanner sample) must never
// wait for an answer that will not come.
import {
  ClosedError,
  DisconnectedError,
  FltportError,
  LateReplyError,
  TimeoutError,
  abortErrorFrom,
} from './errors.js';
import type { PortMessage } from './message-stream.js';
import { checkOptions, describe, fail, functionOption, intOption, msOption, signalOption } from './validate.js';

export interface ServeContext {
  /** Aborted when the handler's deadline passes or serve() stops: stop work that no longer matters. */
  signal: AbortSignal;
}

/** Returns the reply value (ignored for one-way messages), or replies itself via message.reply(). */
export type ServeHandler<M, R> = (message: PortMessage<M, R>, context: ServeContext) => R | undefined | Promise<R | undefined>;

export interface ServeOptions<R> {
  /** Handlers running at once, 1..1024. Default: the port's `concurrency`. */
  concurrency?: number;
  /** Deadline per handler, ms. When it passes the default reply is sent. Default: none. */
  timeout?: number;
  /** Reply sent when the handler throws, misses its deadline or returns nothing usable. */
  defaultReply?: R;
  /**
   * FILTER_REPLY_HEADER.Status of the default reply. Default: 0 (STATUS_SUCCESS) with a
   * defaultReply, else 0xC0000001 (STATUS_UNSUCCESSFUL) with an empty payload, so the driver's
   * FltSendMessage reports a failure instead of a zero-filled verdict.
   */
  defaultStatus?: number;
  /** Handler failures, deadline misses and reply failures. Default: the first becomes a process warning. */
  onError?: (error: unknown, message: PortMessage<unknown, unknown>) => void;
  /** Stops serving: no new messages are taken; in-flight handlers finish (with their replies). */
  signal?: AbortSignal;
}

/** What serve needs from its port. @internal */
export interface ServeHost<M, R> {
  take(signal: AbortSignal): Promise<PortMessage<M, R> | null>;
  release(): void;
  defaultConcurrency: number;
  countTimeout(): void;
  countHandlerError(): void;
  hasReplyCodec: boolean;
  isClosing(): boolean;
}

const STATUS_UNSUCCESSFUL = 0xc0000001 | 0;
const TIMED_OUT = Symbol('timed out');

type Outcome<R> = { ok: true; value: R | undefined } | { ok: false; error: unknown };

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';

/**
 * A handler's context. Its AbortController is made only when the handler reads `signal`: one
 * per message (an EventTarget) would cost more than the rest of the dispatch.
 */
class HandlerContext implements ServeContext {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** @internal Port.serve's body. */
export async function runServe<M, R>(host: ServeHost<M, R>, handler: ServeHandler<M, R>, options?: ServeOptions<R>): Promise<void> {
  let opts: Record<string, unknown>;
  let concurrency: number;
  let timeout: number | undefined;
  let onError: ServeOptions<R>['onError'];
  let signal: AbortSignal | undefined;
  let defaultStatus: number;
  try {
    if (typeof handler !== 'function') fail('port.serve', 'handler', `must be a function, got ${describe(handler)}`);
    opts = checkOptions('port.serve', options, ['concurrency', 'timeout', 'defaultReply', 'defaultStatus', 'onError', 'signal']);
    concurrency = intOption('port.serve', 'concurrency', opts['concurrency'], { min: 1, max: 1024, default: host.defaultConcurrency });
    timeout = opts['timeout'] === undefined ? undefined : msOption('port.serve', 'timeout', opts['timeout'], { min: 1, default: 0 });
    onError = functionOption<NonNullable<ServeOptions<R>['onError']>>('port.serve', 'onError', opts['onError']);
    signal = signalOption('port.serve', opts['signal']);
    const statusRaw = opts['defaultStatus'];
    if (statusRaw !== undefined && (typeof statusRaw !== 'number' || !Number.isInteger(statusRaw) || statusRaw < -0x80000000 || statusRaw > 0xffffffff)) {
      fail('port.serve', 'defaultStatus', `must be a 32-bit NTSTATUS, got ${describe(statusRaw)}`);
    }
    defaultStatus = statusRaw === undefined ? ('defaultReply' in opts && opts['defaultReply'] !== undefined ? 0 : STATUS_UNSUCCESSFUL) : (statusRaw as number) | 0;
  } catch (error) {
    host.release();
    throw error;
  }
  const hasDefault = opts['defaultReply'] !== undefined;
  const defaultReply = opts['defaultReply'] as R;

  let warned = false;
  const report = (error: unknown, message: PortMessage<M, R>): void => {
    if (onError !== undefined) {
      try {
        onError(error, message as PortMessage<unknown, unknown>);
      } catch (thrown) {
        process.emitWarning(`fltport: serve onError threw: ${(thrown as Error)?.message ?? String(thrown)}`, 'FltportWarning');
      }
      return;
    }
    if (!warned) {
      warned = true;
      const text = error instanceof Error ? error.message : String(error);
      process.emitWarning(
        `fltport serve(): ${text} (message ${message.id}; further errors are counted in stats(); pass onError to handle them)`,
        { type: 'FltportWarning', ...(error instanceof FltportError ? { code: error.code } : {}) },
      );
    }
  };

  // A reply that fails because the port is going away is not news to anyone.
  const quiet = (error: unknown): boolean =>
    (error instanceof ClosedError || error instanceof DisconnectedError) && !(error instanceof LateReplyError);

  // A handler's slot frees as soon as its reply is sent: the kernel's outcome of the reply
  // (FilterReplyMessage) comes later and only matters when it is a failure, which is reported.
  // serve() still settles only after every outcome is in.
  let settling = 0;
  let allSettled: (() => void) | undefined;
  const settled = (): void => {
    settling -= 1;
    if (settling === 0) allSettled?.();
  };
  const watch = (sent: Promise<void>, message: PortMessage<M, R>): void => {
    settling += 1;
    sent.then(settled, (error: unknown) => {
      settled();
      if (!quiet(error)) report(error, message);
    });
  };

  // Sends the default reply unless the message is answered or expects none.
  const replyDefault = (message: PortMessage<M, R>): void => {
    if (!message.expectsReply || message.replied) return;
    const sent = hasDefault ? message.reply(defaultReply, { status: defaultStatus }) : message.replyBytes(new Uint8Array(0), { status: defaultStatus });
    watch(sent, message);
  };

  // Sends the handler's reply. One refused before it reached the kernel (too large, the codec
  // refused it) leaves the message unanswered, so the default reply answers it.
  const replyWith = (message: PortMessage<M, R>, value: R): void => {
    const sent = message.reply(value);
    if (message.replied) {
      watch(sent, message);
      return;
    }
    settling += 1;
    sent.then(settled, (error: unknown) => {
      settled();
      report(error, message);
      host.countHandlerError();
      replyDefault(message);
    });
  };

  const stop = new AbortController();
  const onStop = (): void => stop.abort(signal?.reason);
  if (signal !== undefined) {
    if (signal.aborted) onStop();
    else signal.addEventListener('abort', onStop, { once: true });
  }

  // One stop listener for every running handler, not one each: an EventTarget listener per
  // message costs more than the rest of the dispatch, and more than 10 at once (concurrency > 10)
  // set off MaxListenersExceededWarning.
  const running = new Set<HandlerContext>();
  stop.signal.addEventListener(
    'abort',
    () => {
      for (const context of running) context.abort(abortErrorFrom(stop.signal, 'serve()'));
    },
    { once: true },
  );

  // What the handler's outcome means for its message (the handler has finished).
  const finish = (message: PortMessage<M, R>, outcome: Outcome<R>): void => {
    if (!outcome.ok) {
      host.countHandlerError();
      report(outcome.error, message);
      replyDefault(message);
      return;
    }
    if (!message.expectsReply || message.replied) return;
    if (outcome.value === undefined) {
      if (host.hasReplyCodec) {
        host.countHandlerError();
        report(
          new FltportError(
            'FLTPORT_INVALID_STATE',
            `serve(): the handler returned nothing for message ${message.id}, which expects a reply; the default reply was sent`,
          ),
          message,
        );
        replyDefault(message);
        return;
      }
      // A raw port: nothing means an empty, successful reply (status only).
      watch(message.replyBytes(new Uint8Array(0)), message);
      return;
    }
    replyWith(message, outcome.value);
  };

  // Runs one handler. A handler that returns a value (not a promise) is finished, and its
  // reply sent, in the same turn: undefined is returned then, and the slot is free at once.
  const handle = (message: PortMessage<M, R>): Promise<void> | undefined => {
    const context = new HandlerContext();
    let result: R | undefined | Promise<R | undefined>;
    try {
      result = handler(message, context);
    } catch (error) {
      finish(message, { ok: false, error });
      return undefined;
    }
    if (!isThenable(result)) {
      finish(message, { ok: true, value: result });
      return undefined;
    }
    running.add(context);
    return awaitHandler(message, context, result);
  };

  const awaitHandler = async (message: PortMessage<M, R>, context: HandlerContext, result: PromiseLike<R | undefined>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = Promise.resolve(result).then(
        (value): Outcome<R> => ({ ok: true, value }),
        (error: unknown): Outcome<R> => ({ ok: false, error }),
      );
      const deadline =
        timeout === undefined
          ? undefined
          : new Promise<typeof TIMED_OUT>((resolve) => {
              timer = setTimeout(resolve, timeout, TIMED_OUT);
            });
      const outcome = deadline === undefined ? await run : await Promise.race([run, deadline]);
      if (outcome === TIMED_OUT) {
        host.countTimeout();
        const error = new TimeoutError(`serve(): the handler for message ${message.id} missed its ${timeout} ms deadline; the default reply was sent`);
        context.abort(error);
        report(error, message);
        replyDefault(message);
        return;
      }
      finish(message, outcome);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      running.delete(context);
    }
  };

  const inFlight = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;
  let failure: unknown;
  try {
    for (;;) {
      while (inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
      }
      if (stop.signal.aborted) break;
      let message: PortMessage<M, R> | null;
      try {
        message = await host.take(stop.signal);
      } catch (error) {
        if (stop.signal.aborted) break;
        failure = error;
        break;
      }
      if (message === null) break;
      const pending = handle(message);
      if (pending === undefined) continue;  // finished in this turn
      const task = pending.finally(() => {
        inFlight.delete(task);
        const wake = slotFreed;
        slotFreed = undefined;
        wake?.();
      });
      inFlight.add(task);
    }
  } finally {
    host.release();
    signal?.removeEventListener('abort', onStop);
  }
  // No handler outlives serve(): their replies (or default replies) are sent before it settles.
  if (host.isClosing()) stop.abort(new ClosedError('serve(): the port was closed'));
  await Promise.all(inFlight);
  if (settling > 0) {
    await new Promise<void>((resolve) => {
      allSettled = resolve;
    });
  }
  if (failure !== undefined) throw failure;
}
