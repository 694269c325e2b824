/**
 * Giving the event loop a turn during long work made of microtasks (model
 * passes and their reads), so that a client's disconnect, a time limit or
 * an event to stream is seen. Only a timer gives a full turn in Deno:
 * `setImmediate` and `MessageChannel` run before pending I/O is polled
 * (measured: a local fetch never completed across 150 ms of such yields).
 * A timer turn costs 1 to 3 ms, so work that yields often takes a turn
 * only once a time slice has passed.
 *
 * @module
 */

/**
 * Resolves after one full turn of the event loop (timers and I/O run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let fired = false;
 * setTimeout(() => fired = true, 0);
 * await nextTurn();
 * assert.equal(fired, true);
 * ```
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Options of {@linkcode turnTaker}. */
export interface TurnOptions {
  /** Work time between two turns, in milliseconds. @default 8 */
  sliceMs?: number | undefined;
  /** The clock (tests). @default performance.now */
  now?: (() => number) | undefined;
}

/**
 * A yield for a loop of steps: each call takes a full turn
 * ({@linkcode nextTurn}) when `sliceMs` have passed since the last turn
 * (or since the taker was made), else resolves at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let clock = 0;
 * const yieldNow = turnTaker({ sliceMs: 8, now: () => clock });
 * assert.equal(await yieldNow(), false); // 0 ms of work: no turn
 * clock = 9;
 * assert.equal(await yieldNow(), true); // a slice has passed: a turn
 * assert.equal(await yieldNow(), false);
 * ```
 */
export function turnTaker(
  options: TurnOptions = {},
): () => Promise<boolean> {
  const sliceMs = options.sliceMs ?? 8;
  const now = options.now ?? (() => performance.now());
  let last = now();
  return async () => {
    if (now() - last < sliceMs) return false;
    await nextTurn();
    last = now();
    return true;
  };
}
