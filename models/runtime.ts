/**
 * The model runtime every explainer shares, whatever engine runs the
 * network: it prepares images (resize, preprocess), runs the one shared
 * pass per image (with a small LRU cache of lower halves and optional
 * batching of concurrent requests), the batched extra passes long methods
 * need, and checks class indices. Only plain arrays come out.
 *
 * @module
 */
import type { RgbImage } from "../lib/image.ts";
import { preprocess, type PreprocessMode } from "../lib/preprocess.ts";
import { resizeRgbLinear } from "../lib/resize.ts";
import { createBatcher } from "./batcher.ts";
import { type LayerCatalog, layerCatalog, type LayerInfo } from "./catalog.ts";
import type {
  Engine,
  EngineInfo,
  FeatureMap,
  LowerState,
  UpperResult,
} from "./engine.ts";
import { checkClassIndex } from "./labels.ts";
import { createPassCache, hashInput, type PassCache } from "./pass_cache.ts";

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

/** Options of {@linkcode ModelRuntime.run}. */
export interface RunOptions {
  /** Layer name or alias whose activations to return; null for none. */
  layer?: string | null;
  /** Also compute gradients at `layer` (in the same pass). */
  gradients?: boolean;
  /** @default the top-1 class */
  classIndex?: number;
}

/** Counts of model work, for tests and metrics. */
export interface RuntimeCounters {
  /** Shared passes ({@linkcode ModelRuntime.run}) that ran the lower half. */
  forward: number;
  /** Shared passes with gradients. */
  backward: number;
  /** Items of the extra batched passes long methods run. */
  batchItems: number;
  /** Batched shared passes of concurrent requests (see `batchSize`). */
  batches: number;
}

/** A loaded model, ready for explanations. */
export interface ModelRuntime {
  readonly name: string;
  /** The engine running the network (`model { backend }`). */
  readonly backend: EngineInfo;
  readonly inputSize: { width: number; height: number };
  readonly preprocessing: PreprocessMode;
  readonly labels: readonly string[];
  readonly catalog: LayerCatalog;
  readonly counters: RuntimeCounters;
  /** Shared passes of concurrent requests run together (1: never). */
  readonly batchSize: number;
  /** The pass cache (hits, misses, size, bytes). */
  readonly cache: Pick<PassCache, "size" | "bytes" | "stats" | "clear">;
  /** Bytes of weights the engine holds. */
  readonly weightBytes: number;
  /** Resizes (bilinear, as OpenCV INTER_LINEAR) and preprocesses an image. */
  prepare(image: RgbImage): Float32Array;
  run(input: Float32Array, options?: RunOptions): Promise<ModelPass>;
  /**
   * The most items one extra pass should batch: within the memory budget
   * (larger batches are split) and, once passes of this kind were timed,
   * short enough to take about `batchMs`, so that long methods check their
   * signal and let cheaper work through often. `gradients` for input
   * gradients, `layer` for passes continued from a layer, neither for
   * whole forwards.
   */
  maxBatch(kind: { gradients?: boolean; layer?: string }): number;
  /** Logits of a batch of preprocessed inputs (whole forwards). */
  logits(inputs: readonly Float32Array[]): Promise<Float32Array[]>;
  /**
   * d(logit of `classIndex`)/d(input) for a batch of preprocessed inputs,
   * with their logits: for pixel-attribution methods.
   */
  inputGradients(
    inputs: readonly Float32Array[],
    classIndex: number,
  ): Promise<{ logits: Float32Array[]; gradients: Float32Array[] }>;
  /**
   * Logits of the network continued from modified activations at `layer`
   * (each HWC, as in {@linkcode FeatureMap}), with the rest of the network
   * (residual skips from below the layer) computed from `input` once.
   */
  logitsFromActivations(
    input: Float32Array,
    layer: string,
    activations: readonly Float32Array[],
  ): Promise<Float32Array[]>;
  /** Checks a class index; throws a `BAD_USER_INPUT` client error. */
  checkClass(classIndex: number): void;
  dispose(): void;
}

/** Options of {@linkcode createRuntime}. */
export interface RuntimeOptions {
  /** Display name (`model { name }`). */
  name: string;
  /** One label per class. */
  labels: readonly string[];
  /** @default "caffe" */
  preprocessing?: PreprocessMode;
  /**
   * Run up to this many concurrent requests for the same layer (and class
   * choice) as one batched pass. It pays on a GPU; on WASM it gains nothing
   * (BENCHMARKS.md). @default 1
   */
  batchSize?: number;
  /** How long a pass waits for others to join its batch. @default 10 */
  batchWindowMs?: number;
  /** Lower halves kept for repeat requests on the same image (0: none); @default 8 */
  cacheEntries?: number;
  /** Bytes the pass cache may hold; @default 128 MiB */
  cacheBytes?: number;
  /** The default layer (a name or alias); @default the engine's */
  defaultLayer?: string | null;
  /**
   * Working memory one batched pass may use, in bytes: batches of extra
   * passes are split to fit (at least one item each). @default 512 MiB
   */
  batchBytes?: number;
  /** The time one batch of extra passes should take, ms. @default 250 */
  batchMs?: number;
}

/** One image's shared pass as the batcher sees it. */
interface PassRequest {
  input: Float32Array;
  /** Pass-cache key: layer and image hash. */
  key: string;
  layer: LayerInfo | null;
  gradients: boolean;
  classIndex?: number;
}

/** The default working memory of one batched pass. */
export const DEFAULT_BATCH_BYTES = 512 * 1024 * 1024;

/** Calls `run` on consecutive slices of at most `size` items; concatenates. */
async function inChunks<T, R>(
  items: readonly T[],
  size: number,
  run: (chunk: readonly T[]) => Promise<R[]>,
): Promise<R[]> {
  if (items.length <= size) return await run(items);
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...await run(items.slice(i, i + size)));
  }
  return out;
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
 * Wraps an engine as the runtime explainers use.
 *
 * @example
 * ```ts
 * const runtime = createRuntime(engine, { name: "resnet50", labels });
 * const pass = await runtime.run(runtime.prepare(image), { layer: "layer4", gradients: true });
 * ```
 */
export function createRuntime(
  engine: Engine,
  options: RuntimeOptions,
): ModelRuntime {
  const { width, height } = engine.input;
  const numClasses = engine.classes;
  const labels = options.labels;
  if (labels.length !== numClasses) {
    throw new Error(
      `Labels do not match the model: ${labels.length} labels for ${numClasses} classes`,
    );
  }
  let catalog = layerCatalog(engine.layers, engine.defaultLayer);
  if (options.defaultLayer) {
    catalog = layerCatalog(
      engine.layers,
      catalog.resolve(options.defaultLayer).name,
    );
  }
  const preprocessing = options.preprocessing ?? "caffe";
  const counters: RuntimeCounters = {
    forward: 0,
    backward: 0,
    batchItems: 0,
    batches: 0,
  };
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1));
  const cacheEntries = options.cacheEntries ?? 8;
  const cache = createPassCache({
    maxEntries: cacheEntries,
    maxBytes: options.cacheBytes,
  });
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const inputValues = width * height * 3;

  const checkInput = (x: Float32Array) => {
    if (x.length !== inputValues) {
      throw new Error(`Input has ${x.length} values, expected ${inputValues}`);
    }
  };

  /**
   * One shared pass for several images with the same layer, gradient flag
   * and class choice. A single image may come from (and goes to) the pass
   * cache; a batch bypasses it.
   */
  const passes = async (requests: PassRequest[]): Promise<ModelPass[]> => {
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
  const batcher = createBatcher<PassRequest, ModelPass>({
    size: batchSize,
    windowMs: options.batchWindowMs ?? 10,
    run: passes,
  });

  /** Milliseconds per item of each kind of pass (a moving average). */
  const msPerItem = new Map<string, number>();
  const kindKey = (kind: { gradients?: boolean; layer?: string }) =>
    kind.gradients
      ? "gradients"
      : kind.layer
      ? `layer ${kind.layer}`
      : "forward";
  const observe = (key: string, start: number, items: number) => {
    const ms = (performance.now() - start) / Math.max(1, items);
    const previous = msPerItem.get(key);
    msPerItem.set(key, previous === undefined ? ms : 0.7 * previous + 0.3 * ms);
  };
  const batchMs = options.batchMs ?? 250;
  const maxBatch: ModelRuntime["maxBatch"] = (kind) => {
    const layer = kind.gradients ? engine.input.name : kind.layer ?? null;
    const perItem = engine.itemBytes(layer, Boolean(kind.gradients));
    const byMemory = Math.max(1, Math.floor(batchBytes / Math.max(1, perItem)));
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
      : Math.max(1, Math.floor(batchMs / Math.max(ms, 1e-3)));
    return Math.min(byMemory, byTime);
  };

  const runtime: ModelRuntime = {
    name: options.name,
    backend: engine.info,
    inputSize: { width, height },
    preprocessing,
    labels,
    catalog,
    counters,
    batchSize,
    cache,
    weightBytes: engine.weightBytes,
    prepare(image) {
      const resized = image.width === width && image.height === height
        ? image
        : resizeRgbLinear(image, width, height);
      return preprocess(resized, preprocessing);
    },
    maxBatch,
    logits(inputs) {
      if (inputs.length === 0) return Promise.resolve([]);
      return inChunks(inputs, maxBatch({}), async (chunk) => {
        chunk.forEach(checkInput);
        const start = performance.now();
        const state = await engine.lower(chunk, null);
        try {
          const { logits } = await engine.upper(state);
          counters.batchItems += chunk.length;
          observe("forward", start, chunk.length);
          return logits;
        } finally {
          state.dispose();
        }
      });
    },
    async inputGradients(inputs, classIndex) {
      runtime.checkClass(classIndex);
      const results = await inChunks(
        inputs,
        maxBatch({ gradients: true }),
        async (chunk) => {
          chunk.forEach(checkInput);
          const start = performance.now();
          const state = await engine.lower(chunk, engine.input.name);
          try {
            const r = await engine.upper(state, {
              gradients: true,
              classIndex,
            });
            counters.batchItems += chunk.length;
            observe("gradients", start, chunk.length);
            return r.logits.map((logits, i) => ({
              logits,
              gradients: r.gradients![i].data,
            }));
          } finally {
            state.dispose();
          }
        },
      );
      return {
        logits: results.map((r) => r.logits),
        gradients: results.map((r) => r.gradients),
      };
    },
    async logitsFromActivations(input, layerName, activations) {
      if (activations.length === 0) return [];
      checkInput(input);
      const layer = catalog.resolve(layerName);
      const size = layer.shape.reduce((p, d) => p * d, 1);
      for (const a of activations) {
        if (a.length !== size) {
          throw new Error(
            `Activations have ${a.length} values, expected ${size}`,
          );
        }
      }
      const state = await engine.lower([input], layer.name);
      try {
        return await inChunks(
          activations,
          maxBatch({ layer: layer.name }),
          async (chunk) => {
            const start = performance.now();
            const { logits } = await engine.upper(state, { replace: chunk });
            counters.batchItems += chunk.length;
            observe(`layer ${layer.name}`, start, chunk.length);
            return logits;
          },
        );
      } finally {
        state.dispose();
      }
    },
    checkClass: (classIndex) => checkClassIndex(labels, classIndex),
    run(input, runOptions = {}) {
      try {
        checkInput(input);
        if (runOptions.classIndex !== undefined) {
          runtime.checkClass(runOptions.classIndex);
        }
        const layer = runOptions.layer === null
          ? null
          : runOptions.layer === undefined && !runOptions.gradients
          ? null
          : catalog.resolve(runOptions.layer);
        const request: PassRequest = {
          input,
          key: `${layer?.name ?? ""}|${hashInput(input)}`,
          layer,
          gradients: Boolean(runOptions.gradients && layer),
          classIndex: runOptions.classIndex,
        };
        // A cached image needs no network below the layer: never wait for it.
        if (batchSize > 1 && !cache.has(request.key)) {
          const group = `${request.key.split("|")[0]}|${request.gradients}|${
            request.classIndex ?? "top"
          }`;
          return batcher(group, request);
        }
        return passes([request]).then(([pass]) => pass);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    dispose() {
      cache.clear();
      engine.dispose();
    },
  };
  return runtime;
}

/**
 * Runs one pass and one gradient pass on a blank input (compiling kernels
 * and growing buffers before the first request), then resets the counters
 * and the cache.
 *
 * @example
 * ```ts
 * await warmUp(runtime); // before answering /ready
 * ```
 */
export async function warmUp(runtime: ModelRuntime): Promise<void> {
  const { width, height } = runtime.inputSize;
  const zeros = new Float32Array(width * height * 3);
  await runtime.run(zeros);
  await runtime.run(zeros, { gradients: true });
  runtime.counters.forward = 0;
  runtime.counters.backward = 0;
  runtime.cache.clear();
  runtime.cache.stats.hits = runtime.cache.stats.misses = 0;
}
