/**
 * Gathers work items that arrive close together and share a key into
 * batches: the first item of a key opens a window; the batch runs when it
 * is full or the window closes. Generic: it knows nothing of models.
 *
 * @module
 */

/** Options of {@linkcode createBatcher}. */
export interface BatcherOptions<I, R> {
  /** Most items in one batch. */
  size: number;
  /** How long the first item waits for others, ms. */
  windowMs: number;
  /** Runs one batch; resolves with one result per item, in order. */
  run: (items: I[]) => Promise<R[]>;
}

/** Submits items; each resolves with its own result. */
export type Batcher<I, R> = (key: string, item: I) => Promise<R>;

interface Group<I, R> {
  items: I[];
  waiters: PromiseWithResolvers<R>[];
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Creates a batcher.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const batches: number[][] = [];
 * const double = createBatcher<number, number>({
 *   size: 4, windowMs: 10, run: (xs) => {
 *     batches.push(xs);
 *     return Promise.resolve(xs.map((x) => 2 * x));
 *   },
 * });
 * assert.deepEqual(await Promise.all([double("k", 1), double("k", 2)]), [2, 4]);
 * assert.deepEqual(batches, [[1, 2]]); // one batch
 * ```
 */
export function createBatcher<I, R>(
  options: BatcherOptions<I, R>,
): Batcher<I, R> {
  const groups = new Map<string, Group<I, R>>();
  const flush = (key: string) => {
    const group = groups.get(key);
    if (!group) return;
    groups.delete(key);
    clearTimeout(group.timer);
    options.run(group.items).then(
      (results) => group.waiters.forEach((w, i) => w.resolve(results[i])),
      (error) => group.waiters.forEach((w) => w.reject(error)),
    );
  };
  return (key, item) => {
    let group = groups.get(key);
    if (!group) {
      group = {
        items: [],
        waiters: [],
        timer: setTimeout(() => flush(key), options.windowMs),
      };
      groups.set(key, group);
    }
    const waiter = Promise.withResolvers<R>();
    group.items.push(item);
    group.waiters.push(waiter);
    if (group.items.length >= options.size) flush(key);
    return waiter.promise;
  };
}
