/**
 * Batches as the ONNX engine feeds them: per-item arrays joined into one
 * batch-major array, split back, repeated, and run in chunks when a model's
 * batch size is fixed.
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import type { FeatureMap } from "../engine.ts";
import type { OrtModule, RunFn } from "./session.ts";

/**
 * Joins per-item arrays of `size` values each (a single item is returned as
 * it is).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(join([new Float32Array([1, 2]), new Float32Array([3, 4])], 2), new Float32Array([1, 2, 3, 4]));
 * assert.throws(() => join([new Float32Array(3)], 2), /Input has 3 values, expected 2/);
 * ```
 */
export function join(
  items: readonly Float32Array[],
  size: number,
): Float32Array {
  if (items.length === 1 && items[0].length === size) return items[0];
  const out = new Float32Array(items.length * size);
  items.forEach((a, i) => {
    if (a.length !== size) {
      throw new Error(`Input has ${a.length} values, expected ${size}`);
    }
    out.set(a, i * size);
  });
  return out;
}

/**
 * Splits a batch-major array into `n` copies of its items.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(split(new Float32Array([1, 2, 3, 4]), 2), [new Float32Array([1, 2]), new Float32Array([3, 4])]);
 * ```
 */
export function split(data: Float32Array, n: number): Float32Array[] {
  const size = data.length / n;
  return Array.from(
    { length: n },
    (_, i) => data.slice(i * size, (i + 1) * size),
  );
}

/**
 * One batch item's data repeated `n` times.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(repeat(new Float32Array([1, 2]), 2), new Float32Array([1, 2, 1, 2]));
 * ```
 */
export function repeat(item: Float32Array, n: number): Float32Array {
  if (n === 1) return item;
  const out = new Float32Array(item.length * n);
  for (let i = 0; i < n; i++) out.set(item, i * item.length);
  return out;
}

/**
 * The index of the largest value (the top-1 class).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(argMax(new Float32Array([0.1, 3, -2])), 1);
 * ```
 */
export function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

/**
 * A batch-major channels-last array of `batch.n` items of `batch.dims` each
 * as one feature map per item; a non-spatial layer (`[C]`) becomes 1×1×C.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const maps = featureMaps(new Float32Array(2 * 7 * 7 * 8), { n: 2, dims: [7, 7, 8] });
 * assert.deepEqual(maps.map((m) => [m.height, m.width, m.channels, m.data.length]), [
 *   [7, 7, 8, 392],
 *   [7, 7, 8, 392],
 * ]);
 * assert.equal(featureMaps(new Float32Array(10), { n: 1, dims: [10] })[0]?.width, 1); // [C]: 1×1×C
 * ```
 */
export function featureMaps(
  data: Float32Array,
  batch: {
    /** Items in `data`. */
    n: number;
    /** One item's dims (no batch axis): `[H, W, C]` or `[C]`. */
    dims: readonly number[];
  },
): FeatureMap[] {
  const { n, dims } = batch;
  const [height, width, channels] = dims.length === 3
    ? dims
    : [1, 1, dims.reduce((p, d) => p * d, 1)];
  return split(data, n).map((d) => ({ height, width, channels, data: d }));
}

/** A batched float input: `n` items of `dims` each, joined. */
export interface BatchFeed {
  name: string;
  data: Float32Array;
  /** One item's dims (no batch axis). */
  dims: readonly number[];
}

/** Options of {@linkcode runBatch}. */
export interface RunBatchOptions {
  /** Items in the batch. */
  n: number;
  /** The batch size the model is fixed to, or null (any size). */
  fixed: number | null;
  /** Inputs without a batch axis (the class choice). */
  extra?: Record<string, Ort.Tensor> | undefined;
  fetches: readonly string[];
}

/**
 * Runs a session on `n` items, in chunks of the model's fixed batch size if
 * it has one (the last chunk padded with zeros); returns each fetched output
 * joined over the `n` items.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSession, loadOrt } from "./session.ts";
 * const ort = await loadOrt();
 * // A tiny torchvision ResNet-18 (64×64 NCHW input "input", 10 logits "logits").
 * const bytes = await Deno.readFile("tests/fixtures/onnx/resnet18.onnx");
 * const handle = await createSession(ort, bytes, { threads: 1 });
 * try {
 *   const data = new Float32Array(2 * 3 * 64 * 64).fill(0.5); // two items, joined
 *   const out = await handle.use((run) =>
 *     runBatch({ ort, run }, [{ name: "input", data, dims: [3, 64, 64] }], {
 *       n: 2, fixed: null, fetches: ["logits"],
 *     })
 *   );
 *   assert.equal(out.get("logits")?.length, 2 * 10);
 * } finally {
 *   handle.release();
 * }
 * ```
 */
export async function runBatch(
  session: {
    /** The ONNX Runtime module (tensors are made with it). */
    ort: OrtModule;
    /** Runs the session, as `SessionHandle.use` lends it. */
    run: RunFn;
  },
  feeds: readonly BatchFeed[],
  options: RunBatchOptions,
): Promise<Map<string, Float32Array | BigInt64Array>> {
  const { ort, run } = session;
  const { n, fixed, fetches } = options;
  const chunk = fixed ?? n;
  const parts = new Map<string, (Float32Array | BigInt64Array)[]>();
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    const inputs: Record<string, Ort.Tensor> = { ...options.extra };
    const made: Ort.Tensor[] = [];
    for (const f of feeds) {
      const size = f.data.length / n;
      let data = chunk === n
        ? f.data
        : f.data.subarray(start * size, (start + count) * size);
      if (count < chunk) {
        const padded = new Float32Array(chunk * size);
        padded.set(data);
        data = padded;
      }
      inputs[f.name] = new ort.Tensor("float32", data, [chunk, ...f.dims]);
      made.push(inputs[f.name]);
    }
    const out = await run(inputs, fetches);
    for (const name of fetches) {
      const t = out[name];
      const data = t.data as Float32Array | BigInt64Array;
      const keep = count < chunk
        ? data.subarray(0, (data.length / chunk) * count)
        : data;
      const list = parts.get(name) ?? [];
      list.push(keep);
      parts.set(name, list);
      t.dispose();
    }
    for (const t of made) t.dispose();
  }
  const joined = new Map<string, Float32Array | BigInt64Array>();
  for (const [name, list] of parts) {
    if (list.length === 1) {
      joined.set(name, list[0]);
      continue;
    }
    const total = list.reduce((s, a) => s + a.length, 0);
    const out = list[0] instanceof BigInt64Array
      ? new BigInt64Array(total)
      : new Float32Array(total);
    let offset = 0;
    for (const a of list) {
      (out as Float32Array).set(a as Float32Array, offset);
      offset += a.length;
    }
    joined.set(name, out);
  }
  return joined;
}
