/**
 * How long a slow method has left, from the rate of its progress events.
 * Pure: no DOM; times are passed in.
 *
 * @module
 */

/** What the page knows about a running method. */
export interface ProgressState {
  /** Fraction done, 0 to 1. */
  fraction: number;
  /** Estimated seconds left; null until two fractions have been seen. */
  secondsLeft: number | null;
}

/** Turns progress events into fractions with an estimate of the time left. */
export interface ProgressTracker {
  /** Records `fraction` seen at `atMs` (a monotonic clock, in ms). */
  update(fraction: number, atMs: number): ProgressState;
}

/**
 * A tracker. The first event (fraction 0 once the model pass is done, for
 * `explainProgress`) starts the clock; each later one gives the average
 * rate since then, and the rest of the work is assumed to go at that rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const tracker = progressTracker();
 * assert.deepEqual(tracker.update(0, 1000), { fraction: 0, secondsLeft: null });
 * assert.deepEqual(tracker.update(0.25, 3000), { fraction: 0.25, secondsLeft: 6 });
 * ```
 */
export function progressTracker(): ProgressTracker {
  let start: { fraction: number; atMs: number } | null = null;
  return {
    update(fraction, atMs) {
      start ??= { fraction, atMs };
      const done = fraction - start.fraction;
      const elapsed = atMs - start.atMs;
      const secondsLeft = done > 0 && elapsed > 0
        ? ((1 - fraction) * elapsed) / done / 1000
        : null;
      return { fraction, secondsLeft };
    },
  };
}
