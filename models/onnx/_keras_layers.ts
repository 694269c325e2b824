/**
 * One Keras layer (or one fused Conv2D → BatchNorm → ReLU chain) as ONNX
 * nodes over NCHW tensors.
 *
 * @module
 */
import type { GraphSource } from "../tfjs/graph.ts";
import { ModelLoadError } from "../tfjs/io.ts";
import type { LayerWeights, StoredFloats } from "./_keras_weights.ts";
import type { AttributeProto } from "./proto.ts";
import { floatAttr, intAttr, intsAttr } from "./tensors.ts";

/** Where emitted nodes, weights and shapes go. */
export interface Emitter {
  readonly source: GraphSource;
  /** Adds a one-output node; returns `output`. */
  node(
    opType: string,
    inputs: string[],
    output: string,
    attributes?: AttributeProto[],
  ): string;
  /** Adds a float initializer (values in memory or in a file); returns `name`. */
  weight(
    name: string,
    dims: number[],
    data: Float32Array | StoredFloats,
  ): string;
  /** NCHW shapes of the tensors emitted so far (batch -1). */
  readonly shapes: Map<string, number[]>;
  /** Adds an int64 initializer; returns `name`. */
  ints(name: string, values: number[]): string;
}

/** One layer (or fused chain) to emit. */
export interface KerasLayerCall {
  /** The layer, or the conv chain it starts (conv, BatchNorm, ReLU). */
  layers: string[];
  /** Tensors of its inbound layers. */
  inputs: string[];
  weights?: LayerWeights | undefined;
  /** NCHW output shape (batch -1). */
  shape: number[];
  /** Whether this is the logits layer (a softmax activation is dropped). */
  logits: boolean;
}

const SUPPORTED = "InputLayer, Conv2D, BatchNormalization, Activation, ReLU, " +
  "Add, ZeroPadding2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, " +
  "GlobalMaxPooling2D, Flatten, Dense, Dropout";

// deno-lint-ignore no-explicit-any
function config(e: Emitter, name: string): Record<string, any> {
  return e.source.records.get(name)!.layer.getConfig() as Record<
    string,
    unknown
  >;
}

function unsupported(name: string, className: string, why = ""): never {
  throw new ModelLoadError(
    `Cannot export layer "${name}" to ONNX: ${className}${why} is not supported ` +
      `(supported layers: ${SUPPORTED})`,
  );
}

function pair(v: number | number[] | undefined, fallback: number): number[] {
  if (v === undefined || v === null) return [fallback, fallback];
  return Array.isArray(v) ? [v[0], v[1]] : [v, v];
}

/** TensorFlow's "same" padding: begin/end per axis, the extra one at the end. */
function samePads(
  input: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
): number[] {
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const size = input[i + 2];
    const out = Math.ceil(size / strides[i]);
    const extent = (kernel[i] - 1) * dilations[i] + 1;
    const total = Math.max(0, (out - 1) * strides[i] + extent - size);
    begin.push(Math.floor(total / 2));
    end.push(total - begin[i]);
  }
  return [...begin, ...end];
}

function activationOf(e: Emitter, name: string): string {
  const a = config(e, name).activation;
  return typeof a === "string" ? a : "linear";
}

function isRelu(e: Emitter, name: string): boolean {
  const r = e.source.records.get(name)!;
  return r.className === "ReLU" ||
    (r.className === "Activation" && activationOf(e, name) === "relu");
}

function channelsLast(e: Emitter, name: string): boolean {
  const f = config(e, name).dataFormat;
  return f === undefined || f === "channelsLast";
}

/** An activation function as a node from `x` to `out`. */
function activation(
  e: Emitter,
  name: string,
  fn: string,
  x: string,
  out: string,
): string {
  const simple: Record<string, string> = {
    linear: "Identity",
    relu: "Relu",
    sigmoid: "Sigmoid",
    tanh: "Tanh",
    elu: "Elu",
    selu: "Selu",
    softplus: "Softplus",
  };
  if (simple[fn]) return e.node(simple[fn], [x], out);
  if (fn === "relu6") {
    const lo = e.weight(`${out}::min`, [], new Float32Array([0]));
    const hi = e.weight(`${out}::max`, [], new Float32Array([6]));
    return e.node("Clip", [x, lo, hi], out);
  }
  if (fn === "softmax") {
    return e.node("Softmax", [x], out, [intAttr("axis", 1)]);
  }
  return unsupported(name, "activation", ` "${fn}"`);
}

function conv(e: Emitter, call: KerasLayerCall, out: string): string {
  const [name] = call.layers;
  const c = config(e, name);
  if (!channelsLast(e, name)) unsupported(name, "Conv2D", " (channels first)");
  const x = call.inputs[0];
  const w = call.weights!;
  const dims = w.kernel!.dims;
  const strides = pair(c.strides, 1);
  const dilations = pair(c.dilationRate, 1);
  const kernel = [dims[2], dims[3]];
  const pads = c.padding === "same"
    ? samePads(e.shapes.get(x)!, kernel, strides, dilations)
    : c.padding === "valid"
    ? [0, 0, 0, 0]
    : unsupported(name, "Conv2D", ` with padding "${c.padding}"`);
  const inputs = [x, e.weight(`${name}::kernel`, dims, w.kernel!.data)];
  if (w.bias) inputs.push(e.weight(`${name}::bias`, [dims[0]], w.bias));
  const relu = call.layers.slice(1).some((n) => isRelu(e, n));
  const act = activationOf(e, name);
  const convOut = relu || act !== "linear" ? `${name}::conv` : out;
  e.node("Conv", inputs, convOut, [
    intsAttr("kernel_shape", kernel),
    intsAttr("strides", strides),
    intsAttr("dilations", dilations),
    intsAttr("pads", pads),
    intAttr("group", c.groups ?? 1),
  ]);
  e.shapes.set(convOut, call.shape);
  if (relu) return e.node("Relu", [convOut], out);
  if (act !== "linear") return activation(e, name, act, convOut, out);
  return out;
}

function pool(e: Emitter, call: KerasLayerCall, out: string, op: string) {
  const [name] = call.layers;
  const c = config(e, name);
  if (!channelsLast(e, name)) unsupported(name, op, " (channels first)");
  const kernel = pair(c.poolSize, 2);
  const strides = pair(c.strides ?? c.poolSize, 2);
  const x = call.inputs[0];
  const pads = c.padding === "same"
    ? samePads(e.shapes.get(x)!, kernel, strides, [1, 1])
    : [0, 0, 0, 0];
  return e.node(op, [x], out, [
    intsAttr("kernel_shape", kernel),
    intsAttr("strides", strides),
    intsAttr("pads", pads),
  ]);
}

function singleLayer(e: Emitter, call: KerasLayerCall, out: string): string {
  const [name] = call.layers;
  const r = e.source.records.get(name)!;
  const c = config(e, name);
  const [x] = call.inputs;
  const sx = e.shapes.get(x) ?? [];
  switch (r.className) {
    case "Dropout":
    case "SpatialDropout2D":
      return e.node("Identity", [x], out);
    case "Conv2D":
      return conv(e, call, out);
    case "BatchNormalization": {
      const { scale, shift } = call.weights!;
      const axis = Array.isArray(c.axis) ? c.axis[0] : c.axis;
      if (axis !== -1 && axis !== sx.length - 1) {
        unsupported(name, "BatchNormalization", ` on axis ${axis}`);
      }
      const dims = sx.length === 4 ? [scale!.length, 1, 1] : [scale!.length];
      const s = e.weight(`${name}::scale`, dims, scale!);
      const t = e.weight(`${name}::shift`, dims, shift!);
      const scaled = e.node("Mul", [x, s], `${name}::scaled`);
      e.shapes.set(scaled, call.shape);
      return e.node("Add", [scaled, t], out);
    }
    case "Activation": {
      const fn = activationOf(e, name);
      return activation(
        e,
        name,
        call.logits && fn === "softmax" ? "linear" : fn,
        x,
        out,
      );
    }
    case "ReLU": {
      if (c.threshold) unsupported(name, "ReLU", " with a threshold");
      if (c.maxValue && c.negativeSlope) {
        unsupported(name, "ReLU", " with both a maximum and a slope");
      }
      if (c.negativeSlope) {
        return e.node("LeakyRelu", [x], out, [
          floatAttr("alpha", c.negativeSlope),
        ]);
      }
      if (c.maxValue) {
        const lo = e.weight(`${out}::min`, [], new Float32Array([0]));
        const hi = e.weight(`${out}::max`, [], new Float32Array([c.maxValue]));
        return e.node("Clip", [x, lo, hi], out);
      }
      return e.node("Relu", [x], out);
    }
    case "Add":
      return e.node(call.inputs.length === 2 ? "Add" : "Sum", call.inputs, out);
    case "ZeroPadding2D": {
      if (!channelsLast(e, name)) {
        unsupported(name, "ZeroPadding2D", " (channels first)");
      }
      const [[top, bottom], [left, right]] = c.padding as number[][];
      const pads = e.ints(`${name}::pads`, [
        0,
        0,
        top,
        left,
        0,
        0,
        bottom,
        right,
      ]);
      return e.node("Pad", [x, pads], out);
    }
    case "MaxPooling2D":
      return pool(e, call, out, "MaxPool");
    case "AveragePooling2D":
      return pool(e, call, out, "AveragePool");
    case "GlobalAveragePooling2D":
    case "GlobalMaxPooling2D": {
      if (!channelsLast(e, name)) {
        unsupported(name, r.className, " (channels first)");
      }
      const op = r.className === "GlobalMaxPooling2D"
        ? "GlobalMaxPool"
        : "GlobalAveragePool";
      const pooled = e.node(op, [x], `${name}::pool`);
      e.shapes.set(pooled, [...call.shape, 1, 1]);
      return e.node("Flatten", [pooled], out, [intAttr("axis", 1)]);
    }
    case "Flatten": {
      if (sx.length !== 4) return e.node("Identity", [x], out);
      // Keras flattens channels-last: match its order for the Dense after.
      const t = e.node("Transpose", [x], `${name}::nhwc`, [
        intsAttr("perm", [0, 2, 3, 1]),
      ]);
      e.shapes.set(t, [sx[0], sx[2], sx[3], sx[1]]);
      return e.node("Flatten", [t], out, [intAttr("axis", 1)]);
    }
    case "Dense": {
      if (sx.length !== 2) {
        unsupported(name, "Dense", ` on a ${sx.length}-D input`);
      }
      const w = call.weights!;
      const inputs = [
        x,
        e.weight(`${name}::kernel`, w.kernel!.dims, w.kernel!.data),
      ];
      if (w.bias) {
        inputs.push(e.weight(`${name}::bias`, [w.bias.length], w.bias));
      }
      const fn = activationOf(e, name);
      // The logits stop before their softmax: explanations need class scores.
      if (fn === "linear" || (call.logits && fn === "softmax")) {
        return e.node("Gemm", inputs, out);
      }
      const y = e.node("Gemm", inputs, `${name}::linear`);
      e.shapes.set(y, call.shape);
      return activation(e, name, fn, y, out);
    }
  }
  return unsupported(name, r.className);
}

/**
 * Emits one layer or fused chain; returns the tensor holding its output
 * (named after the last layer of the chain).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeModel } from "../tfjs/graph.ts";
 * import { foldChains, snapshotWeights } from "./_keras_weights.ts";
 * import type { NodeProto } from "./proto.ts";
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
 * const source = describeModel(model);
 * const weights = await snapshotWeights(source);
 * foldChains(source, weights);
 * model.dispose();
 * const nodes: NodeProto[] = [];
 * // The export's emitter: nodes and initializers of the ONNX graph.
 * const emitter: Emitter = {
 *   source,
 *   node(opType, inputs, output, attributes = []) {
 *     nodes.push({ name: output, opType, domain: "", inputs, outputs: [output], attributes });
 *     return output;
 *   },
 *   weight: (name) => name,
 *   ints: (name) => name,
 *   shapes: new Map([["input_1::nchw", [-1, 3, 8, 8]]]), // the input, transposed to NCHW
 * };
 * const out = emitKerasLayer(emitter, {
 *   layers: ["conv1", "bn_conv1", "activation"], // one fused chain
 *   inputs: ["input_1::nchw"],
 *   weights: weights.get("conv1"),
 *   shape: [-1, 4, 8, 8],
 *   logits: false,
 * });
 * assert.equal(out, "activation");
 * assert.deepEqual(nodes.map((n) => n.opType), ["Conv", "Relu"]); // the BatchNorm folded into the Conv
 * ```
 */
export function emitKerasLayer(e: Emitter, call: KerasLayerCall): string {
  const out = call.layers[call.layers.length - 1];
  const result = singleLayer(e, call, out);
  e.shapes.set(result, call.shape);
  return result;
}
