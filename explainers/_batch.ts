/**
 * Runs the extra model passes of long methods in batches, reporting progress
 * and stopping when the request is abandoned.
 *
 * @module
 */
import { nextTurn } from "../lib/mod.ts";

/** Progress, cancellation and pausing hooks, as in `ExplainContext`. */
export interface BatchHooks {
  onProgress?: ((fraction: number) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Awaited between batches: resolves when the work may go on. */
  pause?: (() => Promise<void>) | undefined;
}

/** What `maxBatch` needs to know of the runtime. */
interface BatchLimits {
  maxBatch(kind: { gradients?: boolean; layer?: string }): number;
}

/**
 * The batch size of a long method: the user's `batchSize` as a hint,
 * capped by what the runtime allows for this kind of pass (memory, and a
 * batch's time once timed); read again before every batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // What the runtime allows (runtime.maxBatch): fewer gradient passes at once.
 * const runtime = { maxBatch: (kind: { gradients?: boolean }) => kind.gradients ? 2 : 8 };
 * assert.equal(batchesOf(runtime, 16, { gradients: true })(), 2);
 * assert.equal(batchesOf(runtime, 4, {})(), 4);
 * // In a method:
 * // await inBatches({ count: 169, batchSize: batchesOf(ctx.runtime, params.batchSize, {}) }, run, ctx);
 * ```
 */
export function batchesOf(
  runtime: BatchLimits,
  hint: number,
  kind: { gradients?: boolean; layer?: string },
): () => number {
  return () => Math.max(1, Math.min(hint, runtime.maxBatch(kind)));
}

/**
 * Calls `run(start, end)` for consecutive slices of `[0, count)` of at most
 * `batchSize` items (a number, or a function read before each batch), one
 * after the other, and concatenates the results. Between batches it lets
 * the event loop turn once (model passes and their reads are otherwise all
 * microtasks, so a client's disconnect, a time limit or a streamed
 * progress event would wait for the whole method) and awaits `pause`
 * (cheaper work may run first); before each batch it throws
 * `signal.reason` if the signal was aborted; after each it reports the
 * fraction done, ending with exactly 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fractions: number[] = [];
 * const squares = await inBatches(
 *   { count: 5, batchSize: 2 },
 *   (s, e) => Promise.resolve(Array.from({ length: e - s }, (_, i) => (s + i) ** 2)),
 *   { onProgress: (f) => fractions.push(f) },
 * );
 * assert.deepEqual(squares, [0, 1, 4, 9, 16]);
 * assert.deepEqual(fractions, [0.4, 0.8, 1]);
 * ```
 */
export async function inBatches<R>(
  batches: {
    /** Items in all, run as `[0, count)`. */
    count: number;
    /** Most items per batch: a number, or a function read before each batch. */
    batchSize: number | (() => number);
  },
  run: (start: number, end: number) => Promise<R[]>,
  hooks: BatchHooks = {},
): Promise<R[]> {
  const { count, batchSize } = batches;
  const out: R[] = [];
  const size = typeof batchSize === "number" ? () => batchSize : batchSize;
  for (let start = 0, end = 0; start < count; start = end) {
    if (start > 0) {
      await nextTurn();
      await hooks.pause?.();
    }
    hooks.signal?.throwIfAborted();
    end = Math.min(count, start + Math.max(1, Math.floor(size())));
    const results = await run(start, end);
    if (results.length !== end - start) {
      throw new Error(
        `Batch ${start}-${end} gave ${results.length} results, expected ${
          end - start
        }`,
      );
    }
    out.push(...results);
    hooks.onProgress?.(end === count ? 1 : end / count);
  }
  if (count === 0) hooks.onProgress?.(1);
  return out;
}
