/**
 * How many items one batched pass should take: within a memory budget
 * (from the engine's estimate per item) and, once passes of a kind have
 * been timed, within a time budget, so that long methods check their
 * signal and let cheaper work through often.
 *
 * @module
 */
import type { Engine } from "./engine.ts";

/** The default working memory of one batched pass. */
export const DEFAULT_BATCH_BYTES = 512 * 1024 * 1024;

/** A kind of batched pass: whole forwards, from a layer, or to the input. */
export interface PassKind {
  gradients?: boolean;
  layer?: string;
}

/** Batch sizes for an engine, learning how long each kind of pass takes. */
export interface BatchLimits {
  /** The most items one pass of this kind should take (at least 1). */
  maxBatch(kind: PassKind): number;
  /** Records that a pass of `key` ("forward", "gradients", "layer NAME") took from `start` for `items`. */
  observe(key: string, start: number, items: number): void;
}

/**
 * Creates the limits of one engine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // What the limits read of an engine: its input and its memory estimate per item.
 * const engine = {
 *   input: { name: "input_1", width: 224, height: 224 },
 *   itemBytes: (_layer: string | null, gradients: boolean) => (gradients ? 200 : 50) << 20,
 * };
 * const limits = createBatchLimits(engine, { batchBytes: 512 << 20, batchMs: 250 });
 * assert.equal(limits.maxBatch({ gradients: true }), 2); // 512 MiB / 200 MiB
 * assert.equal(limits.maxBatch({}), 10);
 * limits.observe("forward", performance.now() - 100, 1); // a forward took about 100 ms
 * assert.equal(limits.maxBatch({}), 2); // now the time budget decides
 * ```
 */
export function createBatchLimits(
  engine: Pick<Engine, "input" | "itemBytes">,
  options: { batchBytes: number; batchMs: number },
): BatchLimits {
  /** Milliseconds per item of each kind of pass (a moving average). */
  const msPerItem = new Map<string, number>();
  const kindKey = (kind: PassKind) =>
    kind.gradients
      ? "gradients"
      : kind.layer
      ? `layer ${kind.layer}`
      : "forward";
  return {
    observe(key, start, items) {
      const ms = (performance.now() - start) / Math.max(1, items);
      const previous = msPerItem.get(key);
      msPerItem.set(
        key,
        previous === undefined ? ms : 0.7 * previous + 0.3 * ms,
      );
    },
    maxBatch(kind) {
      const layer = kind.gradients ? engine.input.name : kind.layer ?? null;
      const perItem = engine.itemBytes(layer, Boolean(kind.gradients));
      const byMemory = Math.max(
        1,
        Math.floor(options.batchBytes / Math.max(1, perItem)),
      );
      // Not timed yet: a whole forward's time is a fair guess (a backward
      // pass to the input costs about twice as much again).
      const forward = msPerItem.get("forward");
      const ms = msPerItem.get(kindKey(kind)) ??
        (forward === undefined
          ? undefined
          : kind.gradients
          ? 3 * forward
          : forward);
      const byTime = ms === undefined
        ? Infinity
        : Math.max(1, Math.floor(options.batchMs / Math.max(ms, 1e-3)));
      return Math.min(byMemory, byTime);
    },
  };
}

/**
 * Calls `run` on consecutive slices of at most `size` items; concatenates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const chunks: number[][] = [];
 * const doubled = await inChunks({ items: [1, 2, 3], size: 2 }, (c) => {
 *   chunks.push([...c]);
 *   return Promise.resolve(c.map((x) => x * 2));
 * });
 * assert.deepEqual(doubled, [2, 4, 6]);
 * assert.deepEqual(chunks, [[1, 2], [3]]);
 * ```
 */
export async function inChunks<T, R>(
  chunks: {
    /** Everything to run, in order. */
    items: readonly T[];
    /** Most items per call of `run`. */
    size: number;
  },
  run: (chunk: readonly T[]) => Promise<R[]>,
): Promise<R[]> {
  const { items, size } = chunks;
  if (items.length <= size) return await run(items);
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...await run(items.slice(i, i + size)));
  }
  return out;
}
