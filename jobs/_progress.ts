/**
 * Progress reports made monotonic and throttled: a runner may call
 * `onProgress` after every batch; the store sees a rising value at most once
 * per interval, and the last value always arrives.
 *
 * @module
 */

/** A throttled, monotonic progress sink. */
export interface ProgressReporter {
  /** Takes a fraction; values not above the last one are dropped. */
  report(fraction: number): void;
  /**
   * Sends what is pending now, waits for every send to settle, and drops
   * later reports (a runner may still report after its job ended).
   */
  end(): Promise<void>;
  /** The highest value reported so far. */
  readonly value: number;
}

/** Options of {@linkcode progressReporter}. */
export interface ProgressOptions {
  /**
   * The value already stored (a retried job keeps its progress).
   * @default 0
   */
  floor?: number;
  /**
   * Least time between two sends.
   * @default 0
   */
  intervalMs?: number;
  /** Called when a send fails; the reporter carries on. */
  onError?(error: unknown): void;
}

/**
 * Wraps `send` so that it sees rising values in [0, 1], one at a time, at
 * most once per `intervalMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sent: number[] = []; // a job store: (p) => job.updateProgress(p)
 * const progress = progressReporter((p) => {
 *   sent.push(p);
 * }, { intervalMs: 200 });
 * progress.report(0.1); // sent at once
 * progress.report(0.05); // dropped: lower
 * progress.report(0.3); // waits for the interval…
 * await progress.end(); // …or for the end
 * assert.deepEqual(sent, [0.1, 0.3]);
 * assert.equal(progress.value, 0.3);
 * ```
 */
export function progressReporter(
  send: (fraction: number) => void | Promise<void>,
  options: ProgressOptions = {},
): ProgressReporter {
  const intervalMs = options.intervalMs ?? 0;
  let value = Math.min(1, Math.max(0, options.floor ?? 0));
  let sent = value;
  let lastSendAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let ended = false;
  const sendNow = () => {
    timer = undefined;
    if (value <= sent) return;
    sent = value;
    lastSendAt = Date.now();
    const fraction = value;
    chain = chain.then(() => send(fraction)).catch((error) =>
      options.onError?.(error)
    );
  };
  return {
    get value() {
      return value;
    },
    report(fraction) {
      if (ended || !Number.isFinite(fraction)) return;
      const next = Math.min(1, Math.max(0, fraction));
      if (next <= value) return;
      value = next;
      if (timer !== undefined) return;
      const wait = lastSendAt + intervalMs - Date.now();
      if (wait <= 0) sendNow();
      else timer = setTimeout(sendNow, wait);
    },
    async end() {
      if (!ended) {
        ended = true;
        clearTimeout(timer);
        sendNow();
      }
      await chain;
    },
  };
}
