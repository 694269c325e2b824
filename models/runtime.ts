/**
 * The model runtime every explainer shares, whatever engine runs the
 * network: it prepares images (resize, preprocess), runs the one shared
 * pass per image (with a small LRU cache of lower halves and optional
 * batching of concurrent requests), the batched extra passes long methods
 * need, and checks class indices. Only plain arrays come out.
 *
 * @module
 */
import {
  preprocess,
  type PreprocessMode,
  resizeRgbLinear,
  type RgbImage,
} from "../lib/mod.ts";
import { createBatcher } from "./batcher.ts";
import {
  createBatchLimits,
  DEFAULT_BATCH_BYTES,
  inChunks,
} from "./batch_limits.ts";
import { type LayerCatalog, layerCatalog } from "./catalog.ts";
import type { Engine, EngineInfo } from "./engine.ts";
import { checkClassIndex } from "./labels.ts";
import { createPassCache, hashInput, type PassCache } from "./pass_cache.ts";
import { type ModelPass, type PassRequest, sharedPasses } from "./passes.ts";

export type { ModelPass } from "./passes.ts";

/** Options of {@linkcode ModelRuntime.run}. */
export interface RunOptions {
  /** Layer name or alias whose activations to return; null for none. */
  layer?: string | null | undefined;
  /** Also compute gradients at `layer` (in the same pass). */
  gradients?: boolean | undefined;
  /** @default the top-1 class */
  classIndex?: number | undefined;
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
  preprocessing?: PreprocessMode | undefined;
  /**
   * Run up to this many concurrent requests for the same layer (and class
   * choice) as one batched pass. It pays on a GPU; on WASM it gains nothing
   * (BENCHMARKS.md). @default 1
   */
  batchSize?: number | undefined;
  /** How long a pass waits for others to join its batch. @default 10 */
  batchWindowMs?: number | undefined;
  /** Lower halves kept for repeat requests on the same image (0: none); @default 8 */
  cacheEntries?: number | undefined;
  /** Bytes the pass cache may hold; @default 128 MiB */
  cacheBytes?: number | undefined;
  /** The default layer (a name or alias); @default the engine's */
  defaultLayer?: string | null | undefined;
  /**
   * Working memory one batched pass may use, in bytes: batches of extra
   * passes are split to fit (at least one item each). @default 512 MiB
   */
  batchBytes?: number | undefined;
  /**
   * The time one batch of extra passes should take, ms: long enough to
   * share a pass's overhead, short enough that a cancel or a cheaper
   * request waits little. Larger batches are not faster on a CPU (on 2
   * cores ONNX Runtime took 23 ms per masked input in batches of 4 and
   * 29–36 in batches of 16: the activations outgrow the caches).
   * @default 100
   */
  batchMs?: number | undefined;
}

/**
 * Wraps an engine as the runtime explainers use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeImage } from "../lib/mod.ts";
 * import { loadOnnxEngine } from "./onnx/mod.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input, 10 classes).
 * const engine = await loadOnnxEngine("tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const labels = Array.from({ length: 10 }, (_, i) => `class_${i}`);
 * const runtime = createRuntime(engine, { name: "resnet18", labels, preprocessing: "torch" });
 * const image = await decodeImage(await Deno.readFile("tests/fixtures/chelsea.png"));
 * const pass = await runtime.run(runtime.prepare(image), { layer: "layer4", gradients: true });
 * assert.equal(pass.layer?.name, "/layer4/layer4.1/relu_1/Relu_output_0");
 * assert.deepEqual([pass.gradients?.height, pass.gradients?.width, pass.gradients?.channels], [2, 2, 64]);
 * runtime.dispose();
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
  const inputValues = width * height * 3;

  const checkInput = (x: Float32Array) => {
    if (x.length !== inputValues) {
      throw new Error(`Input has ${x.length} values, expected ${inputValues}`);
    }
  };

  const passes = sharedPasses(engine, {
    cache,
    cacheEntries,
    counters,
    observe: (key, start, items) => observe(key, start, items),
  });
  const batcher = createBatcher<PassRequest, ModelPass>({
    size: batchSize,
    windowMs: options.batchWindowMs ?? 10,
    run: passes,
  });

  const limits = createBatchLimits(engine, {
    batchBytes: options.batchBytes ?? DEFAULT_BATCH_BYTES,
    batchMs: options.batchMs ?? 100,
  });
  const { maxBatch, observe } = limits;

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
        : resizeRgbLinear(image, { width, height });
      return preprocess(resized, preprocessing);
    },
    maxBatch,
    logits(inputs) {
      if (inputs.length === 0) return Promise.resolve([]);
      return inChunks({ items: inputs, size: maxBatch({}) }, async (chunk) => {
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
        { items: inputs, size: maxBatch({ gradients: true }) },
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
          { items: activations, size: maxBatch({ layer: layer.name }) },
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
 * import assert from "node:assert/strict";
 * import { loadOnnxEngine } from "./onnx/mod.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input, 10 classes).
 * const engine = await loadOnnxEngine("tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const labels = Array.from({ length: 10 }, (_, i) => `class_${i}`);
 * const runtime = createRuntime(engine, { name: "resnet18", labels, preprocessing: "torch" });
 * await warmUp(runtime); // before answering /ready
 * assert.equal(runtime.counters.forward, 0); // the warm-up passes are not counted
 * runtime.dispose();
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
