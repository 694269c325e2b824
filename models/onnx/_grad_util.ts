/**
 * What gradient rules share: the error for what they cannot do, the context
 * they build nodes in, and small helpers (masks, broadcast sums, pads).
 *
 * @module
 */
import type { Builder } from "./ir.ts";
import type { NodeProto, TensorProto } from "./proto.ts";
import { getInts, getString, intAttr } from "./tensors.ts";

/** Raised for an operator (or use of one) the builder cannot differentiate. */
export class UnsupportedOpError extends Error {
  override name = "UnsupportedOpError";
  constructor(readonly op: string, readonly node: string, detail = "") {
    super(
      `the gradient builder does not support op ${op}${detail} (node "${node}")`,
    );
  }
}

/** What a rule may ask about the forward graph. */
export interface GradContext {
  readonly b: Builder;
  readonly opset: number;
  /** A forward tensor's full shape (batch -1 when symbolic); throws if unknown. */
  shape(name: string): readonly number[];
  /** A static tensor's value, or null. */
  constant(name: string): TensorProto | null;
  /** `Shape(name)`, made once per tensor. */
  shapeOf(name: string): string;
  /** `ReduceSum` keeping dims, in the form the opset wants. */
  reduceSum(x: string, axes: readonly number[]): string;
}

/**
 * Gradients of a node's inputs from its outputs' gradients (null: none
 * arrives). `wants[i]` says whether input `i` needs one.
 */
export type Rule = (
  node: NodeProto,
  dys: readonly (string | null)[],
  wants: readonly boolean[],
  ctx: GradContext,
) => (string | null)[];

const FLOAT = 1;

/**
 * Throws unless every input that needs a gradient (`inputs.wants[i]`) is
 * one of `inputs.ok` (the rule cannot differentiate, say, a convolution's
 * computed weights).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const node = { name: "conv", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["y"], attributes: [] };
 * only(node, { wants: [true, false], ok: [0] }); // only the data input may need a gradient
 * assert.throws(() => only(node, { wants: [true, true], ok: [0] }), {
 *   name: "UnsupportedOpError",
 *   message: 'the gradient builder does not support op Conv with a computed input 2 (node "conv")',
 * });
 * ```
 */
export function only(
  node: NodeProto,
  inputs: {
    /** Whether each input needs a gradient, as the rule is given it. */
    wants: readonly boolean[];
    /** The indexes of the inputs the rule can differentiate. */
    ok: readonly number[];
  },
): void {
  const { wants, ok } = inputs;
  wants.forEach((w, i) => {
    if (w && !ok.includes(i)) {
      throw new UnsupportedOpError(
        node.opType,
        node.name,
        ` with a computed input ${i + 1}`,
      );
    }
  });
}

/**
 * Sums `grad` over the axes `input` was broadcast along to make `output`,
 * back to the shape of `input` (squeeze-excitation: a `[N, C, 1, 1]` scale).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Builder } from "./ir.ts";
 * import { intAttr, readInts } from "./tensors.ts";
 * // Squeeze-excitation: y = x * scale, scale [N, 8, 1, 1] broadcast over H×W.
 * const b = new Builder("grad");
 * const shapes = new Map<string, readonly number[]>([["x", [-1, 8, 7, 7]], ["scale", [-1, 8, 1, 1]], ["y", [-1, 8, 7, 7]]]);
 * // What buildBackward gives a rule: forward shapes, and a builder for its nodes.
 * const ctx: GradContext = {
 *   b,
 *   opset: 17,
 *   shape: (name) => shapes.get(name)!,
 *   constant: () => null,
 *   shapeOf: (name) => b.node("Shape", [name]),
 *   reduceSum: (x, axes) => b.node("ReduceSum", [x, b.ints(axes)], [intAttr("keepdims", 1)]),
 * };
 * const grad = ctx.b.node("Mul", ["dy", "x"]); // d(y)/d(scale) times dy, shaped like y
 * const dScale = unbroadcast(ctx, { grad, input: "scale", output: "y" });
 * assert.equal(dScale, b.nodes.at(-1)?.outputs[0]);
 * assert.equal(b.nodes.at(-1)?.opType, "ReduceSum");
 * assert.deepEqual(readInts(b.initializers[0]!), [2, 3]); // summed over H and W
 * ```
 */
export function unbroadcast(
  ctx: GradContext,
  tensors: {
    /** A gradient shaped like `output`. */
    grad: string;
    /** The input that was broadcast: the gradient's shape is made its own. */
    input: string;
    /** The node's output. */
    output: string;
  },
): string {
  const { grad: g, input: x, output: y } = tensors;
  const sx = ctx.shape(x);
  const sy = ctx.shape(y);
  const axes: number[] = [];
  for (let i = 0; i < sy.length; i++) {
    const j = i - (sy.length - sx.length);
    if (j < 0 || (sx[j] === 1 && sy[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return g;
  const r = ctx.reduceSum(g, axes);
  return sx.length === sy.length
    ? r
    : ctx.b.node("Reshape", [r, ctx.shapeOf(x)]);
}

/**
 * A boolean tensor as 0/1 floats.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Builder } from "./ir.ts";
 * import { intAttr } from "./tensors.ts";
 * const b = new Builder("grad");
 * const shapes = new Map<string, readonly number[]>([["x", [-1, 8]]]);
 * // What buildBackward gives a rule: forward shapes, and a builder for its nodes.
 * const ctx: GradContext = {
 *   b,
 *   opset: 17,
 *   shape: (name) => shapes.get(name)!,
 *   constant: () => null,
 *   shapeOf: (name) => b.node("Shape", [name]),
 *   reduceSum: (x, axes) => b.node("ReduceSum", [x, b.ints(axes)], [intAttr("keepdims", 1)]),
 * };
 * const positive = mask(ctx, ctx.b.node("Greater", ["x", ctx.b.floats([0], [])]));
 * const cast = b.nodes.at(-1)!;
 * assert.deepEqual([cast.opType, cast.outputs[0], cast.attributes[0]?.i], ["Cast", positive, 1]); // to float
 * ```
 */
export function mask(ctx: GradContext, condition: string): string {
  return ctx.b.node("Cast", [condition], [intAttr("to", FLOAT)]);
}

/**
 * A windowed operator's `strides` and `dilations` for `rank` spatial
 * dimensions (ONNX's default: 1 each).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intsAttr } from "./tensors.ts";
 * const node = {
 *   name: "c", opType: "Conv", domain: "", inputs: [], outputs: [],
 *   attributes: [intsAttr("strides", [2, 2])],
 * };
 * assert.deepEqual(windowSteps(node, 2), { strides: [2, 2], dilations: [1, 1] });
 * ```
 */
export function windowSteps(
  node: NodeProto,
  rank: number,
): { strides: number[]; dilations: number[] } {
  const ones = new Array(rank).fill(1);
  return {
    strides: getInts(node, { name: "strides", fallback: ones })!,
    dilations: getInts(node, { name: "dilations", fallback: ones })!,
  };
}

/**
 * Explicit begin/end pads of a conv or pool, `auto_pad` resolved against
 * the input's static shape (`window.input`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intsAttr, stringAttr } from "./tensors.ts";
 * const conv = (attributes = [stringAttr("auto_pad", "SAME_UPPER")]) => ({
 *   name: "conv", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["y"], attributes,
 * });
 * const window = { input: [1, 3, 7, 7], kernel: [3, 3], strides: [2, 2], dilations: [1, 1] };
 * assert.deepEqual(explicitPads(conv(), window), [1, 1, 1, 1]);
 * assert.deepEqual(explicitPads(conv([intsAttr("pads", [0, 0, 1, 1])]), window), [0, 0, 1, 1]);
 * ```
 */
export function explicitPads(
  node: NodeProto,
  window: {
    /** The input's full static shape: batch, channels, then spatial dims. */
    input: readonly number[];
    /** The kernel's spatial dims. */
    kernel: readonly number[];
    strides: readonly number[];
    dilations: readonly number[];
  },
): number[] {
  const { input, kernel, strides, dilations } = window;
  const r = kernel.length;
  const autoPad = getString(node, { name: "auto_pad", fallback: "NOTSET" });
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < r; i++) {
      const size = input[i + 2];
      const out = Math.ceil(size / strides[i]);
      const extent = (kernel[i] - 1) * dilations[i] + 1;
      const total = Math.max(0, (out - 1) * strides[i] + extent - size);
      const small = Math.floor(total / 2);
      begin.push(autoPad === "SAME_UPPER" ? small : total - small);
      end.push(total - begin[i]);
    }
    return [...begin, ...end];
  }
  if (autoPad === "VALID") return new Array(2 * r).fill(0);
  return getInts(node, { name: "pads", fallback: new Array(2 * r).fill(0) })!;
}
