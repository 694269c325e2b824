/**
 * Turns a TF.js layers model into a plain graph of tensor functions that we
 * can run up to any layer, continue from there, and differentiate.
 *
 * At compile time each Conv2D → BatchNormalization → ReLU chain is folded into
 * one fused convolution (BatchNorm scale and shift folded into the kernel and
 * bias), so a forward pass runs about half the ops of the layers model. A chain
 * is never fused across the layer an explanation looks at, so that layer's
 * exact activation tensor stays observable. Layers we do not know run through
 * the layer's own `apply`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { type ConvFn, convolution } from "./conv.ts";

type Layer = tfl.layers.Layer;

/** One step of a compiled graph. */
export interface GraphNode {
  /** The layer whose output this node produces. */
  readonly name: string;
  /** Every layer folded into this node, in order. */
  readonly layers: readonly string[];
  /** Names of the nodes whose outputs feed this one. */
  readonly inputs: readonly string[];
  readonly run: (inputs: tf.Tensor[]) => tf.Tensor;
}

/** A topologically ordered graph from the model input to its logits. */
export interface CompiledGraph {
  readonly input: string;
  readonly nodes: readonly GraphNode[];
  /** The node whose output is the pre-softmax logits. */
  readonly logits: string;
}

/** What the graph knows about one layer of the source model. */
export interface LayerRecord {
  readonly layer: Layer;
  readonly className: string;
  readonly inputs: readonly string[];
  readonly consumers: string[];
}

/** The source model's layers, their wiring and the cached nodes built so far. */
export interface GraphSource {
  readonly records: ReadonlyMap<string, LayerRecord>;
  readonly order: readonly string[];
  readonly input: string;
  /** The layer that yields the logits (before any softmax). */
  readonly logitsLayer: string;
  /** The model's output layer when it is a separate softmax, else null. */
  readonly softmaxLayer: string | null;
  readonly nodeCache: Map<string, GraphNode>;
}

/**
 * Reads a layers model's wiring. Only single-input, single-output models whose
 * layers are each called once are supported.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "./backend.ts";
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
 * const source = describeModel(model);
 * assert.deepEqual(source.order, ["input_1", "conv1", "bn_conv1", "activation", "avg_pool", "fc1000"]);
 * const graph = compileGraph(source, { boundary: "activation" }); // ResNet-50: "activation_48"
 * assert.equal(graph.nodes.length, 3); // conv1+bn_conv1+activation fused, avg_pool, fc1000
 * model.dispose();
 * ```
 */
export function describeModel(model: tfl.LayersModel): GraphSource {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `Unsupported model: it has ${model.inputs.length} inputs and ${model.outputs.length} outputs, expected 1 and 1`,
    );
  }
  const records = new Map<string, LayerRecord>();
  for (const layer of model.layers) {
    if (layer.inboundNodes.length > 1) {
      throw new Error(
        `Unsupported model: layer "${layer.name}" is called more than once`,
      );
    }
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    records.set(layer.name, {
      layer,
      className: layer.getClassName(),
      inputs: inbound.map((l) => l.name),
      consumers: [],
    });
  }
  return graphSource(records, {
    input: model.inputLayers[0].name,
    output: model.outputLayers[0].name,
  });
}

/**
 * A model's wiring from its layer records, in the model's layer order:
 * each layer's consumers filled in, and the logits layer found (the output,
 * or the layer feeding it when it is a separate softmax).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * const dense = tfl.layers.dense({ units: 2, inputShape: [3], name: "fc" });
 * const softmax = tfl.layers.activation({ activation: "softmax", name: "prob" });
 * const records = new Map([
 *   ["fc", { layer: dense, className: "Dense", inputs: [], consumers: [] }],
 *   ["prob", { layer: softmax, className: "Activation", inputs: ["fc"], consumers: [] }],
 * ]);
 * const source = graphSource(records, { input: "fc", output: "prob" });
 * assert.equal(source.logitsLayer, "fc");
 * assert.deepEqual(records.get("fc")?.consumers, ["prob"]);
 * ```
 */
export function graphSource(
  records: Map<string, LayerRecord>,
  ends: { input: string; output: string },
): GraphSource {
  const order = [...records.keys()];
  for (const name of order) {
    for (const input of records.get(name)!.inputs) {
      records.get(input)?.consumers.push(name);
    }
  }
  const { input, output } = ends;
  const out = records.get(output)!;
  const isSoftmaxActivation = out.className === "Activation" &&
    activationName(out.layer) === "softmax";
  return {
    records,
    order,
    input,
    logitsLayer: isSoftmaxActivation ? out.inputs[0] : output,
    softmaxLayer: isSoftmaxActivation ? output : null,
    nodeCache: new Map(),
  };
}

// deno-lint-ignore no-explicit-any
function config(layer: Layer): Record<string, any> {
  return layer.getConfig() as Record<string, unknown>;
}

function activationName(layer: Layer): string {
  const a = config(layer).activation;
  return typeof a === "string" ? a : "linear";
}

function pair(v: number | number[] | undefined, fallback: number): [
  number,
  number,
] {
  if (v === undefined) return [fallback, fallback];
  return Array.isArray(v) ? [v[0], v[1]] : [v, v];
}

function channelsLast(layer: Layer): boolean {
  const format = config(layer).dataFormat;
  return format === undefined || format === "channelsLast";
}

function isChannelsBatchNorm(layer: Layer): boolean {
  const c = config(layer);
  const axis = Array.isArray(c.axis) && c.axis.length === 1
    ? c.axis[0]
    : c.axis;
  return axis === -1 || axis === (layer.outputShape as number[]).length - 1;
}

/** BatchNorm as `x * scale + shift`, or null when it is not per-channel. */
function batchNormAffine(
  layer: Layer,
): { scale: tf.Tensor1D; shift: tf.Tensor1D } | null {
  if (!isChannelsBatchNorm(layer)) return null;
  const c = config(layer);
  const weights = layer.getWeights();
  let i = 0;
  const gamma = c.scale ? weights[i++] : null;
  const beta = c.center ? weights[i++] : null;
  const mean = weights[i++];
  const variance = weights[i++];
  return tf.tidy(() => {
    const inv = tf.rsqrt(tf.add(variance, c.epsilon as number));
    const scale = (gamma ? tf.mul(gamma, inv) : inv) as tf.Tensor1D;
    const shifted = tf.neg(tf.mul(mean, scale));
    const shift = (beta ? tf.add(beta, shifted) : shifted) as tf.Tensor1D;
    return { scale, shift };
  });
}

const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  softplus: (x) => tf.softplus(x),
  softmax: (x) => tf.softmax(x),
};

/**
 * A chain of layers to fold into one fused convolution, starting at a Conv2D:
 * conv, optionally its BatchNorm, optionally a ReLU. Each link must be the
 * only consumer of the previous one and none but the last may be
 * `options.boundary`. (Exported for the ONNX export, which fuses exactly the
 * same chains.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "./backend.ts";
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
 * const source = describeModel(model);
 * // ResNet-50: ["res4b_branch2a", "bn4b_branch2a", "activation_25"]
 * assert.deepEqual(convChain(source, "conv1"), ["conv1", "bn_conv1", "activation"]);
 * assert.deepEqual(
 *   convChain(source, "conv1", { boundary: "bn_conv1" }),
 *   ["conv1", "bn_conv1"], // stops at a boundary
 * );
 * model.dispose();
 * ```
 */
export function convChain(
  source: GraphSource,
  start: string,
  options: {
    /** A layer whose output must stay visible (a split); @default null (none) */
    boundary?: string | null | undefined;
  } = {},
): string[] {
  const boundary = options.boundary ?? null;
  const chain = [start];
  const next = (name: string, accept: (r: LayerRecord) => boolean) => {
    const r = source.records.get(name)!;
    if (name === boundary || r.consumers.length !== 1) return null;
    const consumer = source.records.get(r.consumers[0])!;
    return accept(consumer) ? r.consumers[0] : null;
  };
  const conv = source.records.get(start)!;
  if (activationName(conv.layer) !== "linear") return chain;
  const bn = next(
    start,
    (r) => r.className === "BatchNormalization" && isChannelsBatchNorm(r.layer),
  );
  if (bn) chain.push(bn);
  const relu = next(
    chain[chain.length - 1],
    (r) =>
      (r.className === "Activation" && activationName(r.layer) === "relu") ||
      (r.className === "ReLU" && !config(r.layer).maxValue &&
        !config(r.layer).negativeSlope && !config(r.layer).threshold),
  );
  if (relu) chain.push(relu);
  return chain;
}

function convNode(source: GraphSource, chain: string[]): GraphNode {
  const first = source.records.get(chain[0])!;
  const c = config(first.layer);
  const [kernel, bias] = first.layer.getWeights() as [
    tf.Tensor4D,
    tf.Tensor1D?,
  ];
  let k: tf.Tensor4D = kernel;
  let b: tf.Tensor1D | null = c.useBias ? bias! : null;
  let relu = activationName(first.layer) === "relu";
  for (const name of chain.slice(1)) {
    const r = source.records.get(name)!;
    if (r.className === "BatchNormalization") {
      const affine = batchNormAffine(r.layer)!;
      k = tf.mul(k, affine.scale);
      b = b ? tf.add(tf.mul(b, affine.scale), affine.shift) : affine.shift;
    } else {
      relu = true;
    }
  }
  const conv: ConvFn = convolution({
    kernel: k,
    bias: b,
    strides: pair(c.strides, 1),
    padding: c.padding === "same" ? "same" : "valid",
    dilations: pair(c.dilationRate, 1),
    relu,
  });
  return {
    name: chain[chain.length - 1],
    layers: chain,
    inputs: first.inputs,
    run: ([x]) => conv(x as tf.Tensor4D),
  };
}

/** A node for one layer on its own; unknown layers run their own `apply`. */
function singleNode(source: GraphSource, name: string): GraphNode {
  const r = source.records.get(name)!;
  const c = config(r.layer);
  const node = (run: (xs: tf.Tensor[]) => tf.Tensor): GraphNode => ({
    name,
    layers: [name],
    inputs: r.inputs,
    run,
  });
  switch (r.className) {
    case "InputLayer":
    case "Dropout":
    case "SpatialDropout2D":
      return node(([x]) => x);
    case "Conv2D":
      if (channelsLast(r.layer)) return convNode(source, [name]);
      break;
    case "BatchNormalization": {
      const affine = batchNormAffine(r.layer);
      if (affine) {
        return node(([x]) => tf.add(tf.mul(x, affine.scale), affine.shift));
      }
      break;
    }
    case "Activation": {
      const f = ACTIVATIONS[activationName(r.layer)];
      if (f) return node(([x]) => f(x));
      break;
    }
    case "Add":
      return node((xs) => xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs));
    case "ZeroPadding2D":
      if (channelsLast(r.layer)) {
        const [[top, bottom], [left, right]] = c.padding as number[][];
        return node(([x]) =>
          tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
        );
      }
      break;
    case "MaxPooling2D":
    case "AveragePooling2D":
      if (channelsLast(r.layer)) {
        const pool = r.className === "MaxPooling2D" ? tf.maxPool : tf.avgPool;
        const size = pair(c.poolSize, 2);
        const strides = pair(c.strides ?? c.poolSize, 2);
        const padding = c.padding === "same" ? "same" : "valid";
        return node(([x]) =>
          pool(x as tf.Tensor4D, size, strides, padding as "same")
        );
      }
      break;
    case "GlobalAveragePooling2D":
      if (channelsLast(r.layer)) return node(([x]) => tf.mean(x, [1, 2]));
      break;
    case "GlobalMaxPooling2D":
      if (channelsLast(r.layer)) return node(([x]) => tf.max(x, [1, 2]));
      break;
    case "Flatten":
      return node(([x]) => tf.reshape(x, [x.shape[0], -1]));
    case "Dense": {
      const [kernel, bias] = r.layer.getWeights();
      // The logits layer stops before its softmax: explanations need the
      // pre-softmax class score, and probabilities are a softmax of it.
      const act = name === source.logitsLayer &&
          activationName(r.layer) === "softmax"
        ? ACTIVATIONS.linear
        : ACTIVATIONS[activationName(r.layer)];
      if (act && (r.inputs.length === 1)) {
        return node(([x]) => {
          const y = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
          return act(c.useBias ? tf.add(y, bias) : y);
        });
      }
      break;
    }
  }
  return node((xs) => r.layer.apply(xs.length === 1 ? xs[0] : xs) as tf.Tensor);
}

function cached(
  source: GraphSource,
  key: string,
  make: () => GraphNode,
): GraphNode {
  let node = source.nodeCache.get(key);
  if (!node) {
    node = make();
    source.nodeCache.set(key, node);
  }
  return node;
}

/**
 * Compiles the graph from the model input to the logits. With a `boundary`
 * layer, no fused node swallows that layer's output, so it can be read and
 * differentiated against. Nodes are shared between compilations.
 */
export function compileGraph(
  source: GraphSource,
  options: { boundary?: string | null; fuse?: boolean } = {},
): CompiledGraph {
  const boundary = options.boundary ?? null;
  const fuse = options.fuse ?? true;
  const absorbed = new Set<string>();
  const nodes: GraphNode[] = [];
  for (const name of source.order) {
    if (
      absorbed.has(name) || name === source.softmaxLayer ||
      name === source.input
    ) continue;
    const r = source.records.get(name)!;
    if (fuse && r.className === "Conv2D" && channelsLast(r.layer)) {
      const chain = convChain(source, name, { boundary });
      chain.slice(1).forEach((n) => absorbed.add(n));
      nodes.push(
        cached(source, chain.join("+"), () => convNode(source, chain)),
      );
    } else {
      nodes.push(cached(source, name, () => singleNode(source, name)));
    }
    if (name === source.logitsLayer) break;
  }
  return { input: source.input, nodes, logits: source.logitsLayer };
}
