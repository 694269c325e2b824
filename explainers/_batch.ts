/**
 * Runs the extra model passes of long methods in batches, reporting progress
 * and stopping when the request is abandoned.
 *
 * @module
 */

/** Progress and cancellation hooks, as in `ExplainContext`. */
export interface BatchHooks {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Resolves after one turn of the event loop (timers and I/O run). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Calls `run(start, end)` for consecutive slices of `[0, count)` of at most
 * `batchSize` items, one after the other, and concatenates the results.
 * Between batches it lets the event loop turn once (model passes and their
 * reads are otherwise all microtasks, so a client's disconnect, a time limit
 * or a streamed progress event would wait for the whole method); before
 * each batch it throws `signal.reason` if the signal was aborted; after
 * each it reports the fraction done, ending with exactly 1.
 *
 * @example
 * ```ts
 * const squares = await inBatches(5, 2, (s, e) =>
 *   Promise.resolve(Array.from({ length: e - s }, (_, i) => (s + i) ** 2)));
 * squares; // [0, 1, 4, 9, 16]
 * ```
 */
export async function inBatches<R>(
  count: number,
  batchSize: number,
  run: (start: number, end: number) => Promise<R[]>,
  hooks: BatchHooks = {},
): Promise<R[]> {
  const out: R[] = [];
  for (let start = 0; start < count; start += batchSize) {
    if (start > 0) await nextMacrotask();
    hooks.signal?.throwIfAborted();
    const end = Math.min(count, start + batchSize);
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

/**
 * Softmax of a score vector, in float64 with the maximum subtracted.
 *
 * @example
 * ```ts
 * softmax([0, Math.log(3)]); // [0.25, 0.75]
 * ```
 */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]);
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.exp(scores[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
