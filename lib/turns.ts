/**
 * Giving the event loop a turn during long work made of microtasks (model
 * passes and their reads), so that a client's disconnect, a time limit or
 * an event to stream is seen. Only an operation that completes outside
 * JavaScript lets pending I/O be polled: `setImmediate` and `MessageChannel`
 * run before it (measured: a local fetch never completed across 150 ms of
 * such yields). Two such operations:
 * - a zero-delay timer ({@linkcode nextTurn}): due timers run before it, but
 *   a turn costs ~2.1 ms (Deno's timers have 1 ms granularity, and the loop
 *   sleeps until then);
 * - digesting one byte ({@linkcode quickTurn}): ~13 µs, pending I/O is
 *   polled, but a timer that is due may run only a turn or two later
 *   (measured: 1 to 3 turns).
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

/** What {@linkcode quickTurn} digests. */
const ONE_BYTE = new Uint8Array(1);

/**
 * Resolves after a turn of the event loop that polls pending I/O (a
 * cancel, a disconnect, another thread's message) at a hundredth of
 * {@linkcode nextTurn}'s cost; timers that are due run within a few such
 * turns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let fired = false;
 * setTimeout(() => fired = true, 1);
 * for (let i = 0; i < 1000 && !fired; i++) {
 *   const until = performance.now() + 1;
 *   while (performance.now() < until) {} // a step of work
 *   await quickTurn();
 * }
 * assert.equal(fired, true);
 * ```
 */
export function quickTurn(): Promise<void> {
  return crypto.subtle.digest("SHA-1", ONE_BYTE).then(() => {});
}

/** Options of {@linkcode turnTaker}. */
export interface TurnOptions {
  /** Work time between two turns, in milliseconds. @default 2 */
  sliceMs?: number | undefined;
  /** The clock (tests). @default performance.now */
  now?: (() => number) | undefined;
}

/**
 * A yield for a loop of steps: each call takes a turn
 * ({@linkcode quickTurn}) when `sliceMs` have passed since the last turn
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
  const sliceMs = options.sliceMs ?? 2;
  const now = options.now ?? (() => performance.now());
  let last = now();
  return async () => {
    if (now() - last < sliceMs) return false;
    await quickTurn();
    last = now();
    return true;
  };
}
