/**
 * A copy of a model with its top layers replaced by noise, for the
 * model-randomization sanity check (`explainers/evaluation/sanity.ts`):
 * reading a model's artifacts, randomizing the kernels of its top residual
 * blocks, loading the copy once per process.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { gaussianSource, type PreprocessMode } from "../lib/mod.ts";
import type { EnginePreference } from "./engine.ts";
import { parseLabels } from "./labels.ts";
import { loadModel, RESNET50_DIR, RESNET50_MODEL } from "./load.ts";
import type { ModelRuntime } from "./runtime.ts";
import { DTYPE_BYTES, fileHandler, ModelLoadError } from "./tfjs/io.ts";

/** Reads a model's topology and weights (a `tf.io.IOHandler`'s `load`). */
export type ArtifactsLoader = () => Promise<tf.io.ModelArtifacts>;

/**
 * The shipped ResNet-50's artifacts, read from disk on each call.
 *
 * @example
 * ```ts ignore
 * // Reads and loads the shipped ResNet-50 (100 MB of weights): seconds.
 * const runtime = await randomizedRuntime(resnet50Artifacts);
 * ```
 */
export const resnet50Artifacts: ArtifactsLoader = () =>
  fileHandler(RESNET50_MODEL).load!();

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
  /**
   * Loads the randomized copy from its IO handler (e.g. with the trained
   * model's labels, preprocessing and engine); @default `loadModel` with
   * the options above
   */
  loader?: (handler: tf.io.IOHandler) => Promise<ModelRuntime>;
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
 * import assert from "node:assert/strict";
 * import { RESNET50_MODEL } from "./load.ts";
 * const resnet50 = JSON.parse(await Deno.readTextFile(RESNET50_MODEL)); // the topology only
 * const top = topLayers(resnet50.modelTopology, 1);
 * assert.deepEqual(top.slice(0, 2), ["activation_45", "res5c_branch2a"]);
 * assert.deepEqual(top.slice(-2), ["avg_pool", "fc1000"]);
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
 * ```ts ignore
 * // Reads the shipped ResNet-50's weights (100 MB).
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
 * ```ts ignore
 * // Loads the shipped ResNet-50 twice: seconds.
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
      const handler = { load: () => Promise.resolve(artifacts) };
      if (options.loader) return await options.loader(handler);
      let labels = options.labels;
      if (!labels && load === resnet50Artifacts) {
        labels = parseLabels(await Deno.readTextFile(labelsPath));
      }
      return loadModel({
        model: handler,
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
