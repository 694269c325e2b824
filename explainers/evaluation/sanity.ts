/**
 * The model-randomization sanity check (Adebayo et al. 2018): a map that
 * explains the model must change when the model's top layers are replaced
 * by noise. Scored as the Spearman rank correlation between the map on the
 * trained model and on the randomized one (lower is better).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { PreprocessMode } from "../lib/preprocess.ts";
import type { RgbImage } from "../lib/image.ts";
import {
  DTYPE_BYTES,
  type EnginePreference,
  fileHandler,
  loadModel,
  ModelLoadError,
  type ModelRuntime,
  parseLabels,
  RESNET50_DIR,
} from "../models/mod.ts";
import { gaussianSource } from "./_random.ts";
import { analyzeImage, type MethodResult } from "./analysis.ts";
import type { Registry } from "./registry.ts";

/** Reads a model's topology and weights (a `tf.io.IOHandler`'s `load`). */
export type ArtifactsLoader = () => Promise<tf.io.ModelArtifacts>;

/**
 * The shipped ResNet-50's artifacts, read from disk on each call.
 *
 * @example
 * ```ts
 * const runtime = await randomizedRuntime(resnet50Artifacts);
 * ```
 */
export const resnet50Artifacts: ArtifactsLoader = () =>
  fileHandler(`${RESNET50_DIR}ResNet50/model.json`).load!();

/** Options of {@linkcode randomizedRuntime}. */
export interface RandomizeOptions {
  /** Residual blocks, counted from the top, whose kernels are randomized
   * (the classifier always is); @default 1 */
  blocks?: number;
  /** Seed of the noise; @default 1 */
  seed?: number;
  /** @default the shipped ImageNet labels for `resnet50Artifacts`, else class_i */
  labels?: readonly string[];
  /** @default "caffe" */
  preprocessing?: PreprocessMode;
  /** @default "auto" */
  backend?: EnginePreference;
}

interface TopologyLayer {
  name?: string;
  class_name?: string;
  config?: { name?: string };
}

/** The layer list of a functional model's topology, in graph order. */
function topologyLayers(topology: unknown): { name: string; kind: string }[] {
  const t = topology as {
    model_config?: { config?: { layers?: TopologyLayer[] } };
    config?: { layers?: TopologyLayer[] };
  } | null;
  const layers = t?.model_config?.config?.layers ?? t?.config?.layers;
  if (!Array.isArray(layers)) {
    throw new ModelLoadError(
      "Cannot randomize the model: its topology has no layer list",
    );
  }
  return layers.map((l) => ({
    name: String(l.config?.name ?? l.name),
    kind: String(l.class_name),
  }));
}

/**
 * The names of the layers above the input of the top `blocks` residual
 * blocks, in graph order: the layers after the Add that closes the block
 * below them (all layers but the input when there are not enough blocks).
 *
 * @example
 * ```ts
 * topLayers(resnet50.modelTopology, 1);
 * // ["activation_45", "res5c_branch2a", …, "avg_pool", "fc1000"]
 * ```
 */
export function topLayers(topology: unknown, blocks: number): string[] {
  const layers = topologyLayers(topology);
  const adds = layers.flatMap((l, i) => l.kind === "Add" ? [i] : []);
  const cut = blocks < adds.length ? adds[adds.length - blocks - 1] : 0;
  return layers.slice(cut + 1).map((l) => l.name);
}

/**
 * A copy of `artifacts` in which every `kernel` weight of the layers after
 * the top `blocks` residual blocks' input (found as the Adds of the graph)
 * is replaced by LeCun-normal noise N(0, 1/fan-in), seeded; the classifier,
 * the last layer with a kernel, is always among them. With no more blocks
 * than asked, every kernel is randomized. Biases and batch-norm statistics
 * are kept. The input artifacts are not modified.
 *
 * @example
 * ```ts
 * const noisy = randomizeArtifacts(await resnet50Artifacts(), { blocks: 1 });
 * // res5c_branch2{a,b,c}/kernel and fc1000/kernel are noise
 * ```
 */
export function randomizeArtifacts(
  artifacts: tf.io.ModelArtifacts,
  options: { blocks?: number; seed?: number } = {},
): tf.io.ModelArtifacts {
  const randomized = new Set(
    topLayers(artifacts.modelTopology, options.blocks ?? 1),
  );
  const source = artifacts.weightData;
  if (!source || !artifacts.weightSpecs) {
    throw new ModelLoadError("Cannot randomize the model: it has no weights");
  }
  const parts = Array.isArray(source) ? source : [source];
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(new Uint8Array(part), at);
    at += part.byteLength;
  }
  const next = gaussianSource(options.seed ?? 1);
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const size = spec.shape.reduce((p, d) => p * d, 1);
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    const width = DTYPE_BYTES[dtype];
    if (width === undefined) {
      throw new ModelLoadError(
        `Cannot randomize the model: unsupported dtype "${dtype}" of "${spec.name}"`,
      );
    }
    const [layer, ...rest] = spec.name.split("/");
    if (randomized.has(layer) && rest.at(-1) === "kernel") {
      if (spec.quantization || spec.dtype !== "float32") {
        throw new ModelLoadError(
          `Cannot randomize the model: "${spec.name}" is not plain float32`,
        );
      }
      const fanIn = spec.shape.slice(0, -1).reduce((p, d) => p * d, 1);
      const scale = Math.sqrt(1 / fanIn);
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = next() * scale;
      bytes.set(new Uint8Array(values.buffer), offset);
    }
    offset += size * width;
  }
  return { ...artifacts, weightData: bytes.buffer };
}

const cache = new WeakMap<
  ArtifactsLoader,
  Map<string, Promise<ModelRuntime>>
>();

/**
 * A runtime of the model that `load` reads, with its top blocks randomized
 * (see {@linkcode randomizeArtifacts}). Loaded once per process for each
 * loader and options (ResNet-50 takes 1–2 s), so it is shared: do not
 * dispose it. A failed load is not cached.
 *
 * @example
 * ```ts
 * const trained = await loadModel({ backend: "wasm" });
 * const randomized = await randomizedRuntime(resnet50Artifacts, {
 *   labels: trained.labels, backend: "wasm",
 * });
 * ```
 */
export function randomizedRuntime(
  load: ArtifactsLoader,
  options: RandomizeOptions = {},
): Promise<ModelRuntime> {
  const key = JSON.stringify([
    options.blocks ?? 1,
    options.seed ?? 1,
    options.preprocessing ?? "caffe",
    options.backend ?? "auto",
    options.labels ?? null,
  ]);
  let byOptions = cache.get(load);
  if (!byOptions) {
    byOptions = new Map();
    cache.set(load, byOptions);
  }
  let runtime = byOptions.get(key);
  if (!runtime) {
    const labelsPath = `${RESNET50_DIR}assets/labels.json`;
    runtime = (async () => {
      const artifacts = randomizeArtifacts(await load(), options);
      let labels = options.labels;
      if (!labels && load === resnet50Artifacts) {
        labels = parseLabels(await Deno.readTextFile(labelsPath));
      }
      return loadModel({
        model: { load: () => Promise.resolve(artifacts) },
        labels,
        preprocessing: options.preprocessing,
        backend: options.backend,
        name: "randomized",
        warmUp: false,
      });
    })();
    const pending = runtime;
    const entries = byOptions;
    pending.catch(() => {
      if (entries.get(key) === pending) entries.delete(key);
    });
    byOptions.set(key, runtime);
  }
  return runtime;
}

/**
 * Spearman's rank correlation: the Pearson correlation of the ranks, ties
 * sharing their average rank. Where it is undefined it is taken as: 1 when
 * both inputs are constant (their rankings agree), 0 when only one is.
 *
 * @example
 * ```ts
 * spearman([1, 2, 3], [10, 20, 15]); // 0.5
 * ```
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`Lengths differ: ${a.length} and ${b.length}`);
  }
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length - 1) / 2;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < ra.length; i++) {
    ab += (ra[i] - mean) * (rb[i] - mean);
    aa += (ra[i] - mean) ** 2;
    bb += (rb[i] - mean) ** 2;
  }
  if (aa === 0 || bb === 0) return aa === bb ? 1 : 0;
  return ab / Math.sqrt(aa * bb);
}

/** 0-based ranks, ties averaged. */
function ranks(v: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: v.length }, (_, i) => i)
    .sort((i, j) => v[i] - v[j]);
  const out = new Float64Array(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let t = i; t <= j; t++) out[order[t]] = (i + j) / 2;
    i = j + 1;
  }
  return out;
}

/** The two models compared and the methods available. */
export interface SanitySetup {
  trained: ModelRuntime;
  /** The same architecture with its top randomized ({@linkcode randomizedRuntime}). */
  randomized: ModelRuntime;
  registry: Registry;
}

/** What to explain. */
export interface SanityRequest {
  image: RgbImage | Float32Array;
  method: string;
  /** Layer name or alias; @default the model's default layer */
  layer?: string | null;
  /** @default the trained model's top-1 class (used for both models) */
  classIndex?: number | null;
  /** The method's options. */
  params?: unknown;
  /** Stops the work between steps (throws its reason). */
  signal?: AbortSignal;
}

/** The verdict and both maps. */
export interface SanityResult {
  /** Spearman ρ between the two scaled maps (see {@linkcode spearman}); lower is better. */
  spearman: number;
  classIndex: number;
  trained: MethodResult;
  randomized: MethodResult;
}

/**
 * Explains the image with `method` on both models, for the same class and
 * layer, and correlates the two maps' ranks (after the shared ReLU and
 * scaling, so ties at 0 share a rank).
 *
 * @example
 * ```ts
 * const { spearman } = await sanityCheck(
 *   { trained, randomized, registry: createRegistry() },
 *   { image, method: "gradcam", layer: "layer4" },
 * );
 * spearman < 0.5; // the map depends on the trained weights
 * ```
 */
export async function sanityCheck(
  setup: SanitySetup,
  request: SanityRequest,
): Promise<SanityResult> {
  const options = {
    methods: [request.method],
    layer: request.layer,
    params: { [request.method]: request.params },
  };
  const first = await analyzeImage(
    setup.trained,
    setup.registry,
    request.image,
    { ...options, classIndex: request.classIndex },
  );
  const hooks = { signal: request.signal };
  const trained = await first.explain(request.method, hooks);
  request.signal?.throwIfAborted();
  const second = await analyzeImage(
    setup.randomized,
    setup.registry,
    request.image,
    { ...options, classIndex: first.classIndex },
  );
  const randomized = await second.explain(request.method, hooks);
  return {
    spearman: spearman(trained.heatmap.values, randomized.heatmap.values),
    classIndex: first.classIndex,
    trained,
    randomized,
  };
}
