/**
 * The shared pass of one or several images: the lower half (from the pass
 * cache when the same image came before), then the upper half with the
 * gradients and activations the methods need, read back as plain arrays.
 *
 * @module
 */
import type { LayerInfo } from "./catalog.ts";
import type { Engine, FeatureMap, LowerState, UpperResult } from "./engine.ts";
import type { PassCache } from "./pass_cache.ts";

/** Everything one forward (and optional backward) pass yields. */
export interface ModelPass {
  /** Pre-softmax class scores. */
  logits: Float32Array;
  probabilities: Float32Array;
  /** The class the gradients are for: the requested one or the top-1. */
  classIndex: number;
  layer: LayerInfo | null;
  activations: FeatureMap | null;
  /** d(logit of `classIndex`)/d(activations), when asked for. */
  gradients: FeatureMap | null;
}

/** One image's shared pass as the batcher sees it. */
export interface PassRequest {
  input: Float32Array;
  /** Pass-cache key: layer and image hash. */
  key: string;
  layer: LayerInfo | null;
  gradients: boolean;
  classIndex?: number | undefined;
}

/** Counts of model work, for tests and metrics. */
export interface PassCounters {
  /** Shared passes that ran the lower half. */
  forward: number;
  /** Shared passes with gradients. */
  backward: number;
  /** Batched shared passes of concurrent requests. */
  batches: number;
}

/** Softmax of logits, in float64 with the maximum subtracted. */
function probabilities(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * One shared pass for several images with the same layer, gradient flag
 * and class choice. A single image may come from (and goes to) the pass
 * cache (with `cacheEntries` > 0); a batch bypasses it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerCatalog } from "./catalog.ts";
 * import { loadOnnxEngine } from "./onnx/mod.ts";
 * import { createPassCache, hashInput } from "./pass_cache.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input, 10 classes).
 * const engine = await loadOnnxEngine("tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const cache = createPassCache();
 * const counters = { forward: 0, backward: 0, batches: 0 };
 * const run = sharedPasses(engine, { cache, cacheEntries: 8, counters, observe: () => {} });
 * const layer = layerCatalog(engine.layers, engine.defaultLayer).resolve("layer4");
 * const input = new Float32Array(64 * 64 * 3).fill(0.5);
 * const key = `${layer.name} ${hashInput(input)}`;
 * const [pass] = await run([{ input, key, layer, gradients: true }]);
 * assert.equal(pass?.gradients?.channels, 64);
 * await run([{ input, key, layer, gradients: true }]); // the same image: from the cache
 * assert.deepEqual(counters, { forward: 1, backward: 2, batches: 0 });
 * cache.clear();
 * engine.dispose();
 * ```
 */
export function sharedPasses(
  engine: Engine,
  context: {
    cache: PassCache;
    cacheEntries: number;
    counters: PassCounters;
    observe(key: string, start: number, items: number): void;
  },
): (requests: PassRequest[]) => Promise<ModelPass[]> {
  const { cache, cacheEntries, counters, observe } = context;
  return async (requests) => {
    const n = requests.length;
    const { layer, gradients, classIndex } = requests[0];
    const cacheable = cacheEntries > 0 && n === 1;
    let state: LowerState | undefined = n === 1
      ? cache.get(requests[0].key)
      : undefined;
    const computed = !state;
    const start = performance.now();
    if (!state) {
      state = await engine.lower(
        requests.map((r) => r.input),
        layer?.name ?? null,
      );
      counters.forward += n;
      if (n > 1) counters.batches++;
    }
    let result: UpperResult;
    try {
      result = await engine.upper(state, {
        gradients,
        classIndex,
        activations: layer !== null,
      });
    } catch (error) {
      if (computed) state.dispose();
      throw error;
    }
    if (computed) {
      // A whole forward (no layer) times the kind every method uses.
      if (layer === null) observe("forward", start, n);
      // The cache may dispose it at once (too big).
      if (cacheable) cache.set(requests[0].key, state);
      else state.dispose();
    }
    if (gradients) counters.backward += n;
    return requests.map((_, i) => ({
      logits: result.logits[i],
      probabilities: probabilities(result.logits[i]),
      classIndex: result.classIndex[i],
      layer,
      activations: result.activations?.[i] ?? null,
      gradients: result.gradients?.[i] ?? null,
    }));
  };
}
