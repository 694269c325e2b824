/**
 * Gradient rules for pooling and reductions: global and windowed average
 * pooling, max pooling through its argmax indices, `ReduceMean`/`ReduceSum`.
 *
 * @module
 */
import {
  explicitPads,
  mask,
  only,
  type Rule,
  UnsupportedOpError,
  windowSteps,
} from "./_grad_util.ts";
import {
  getInt,
  getInts,
  intAttr,
  intsAttr,
  readInts,
  stringAttr,
} from "./tensors.ts";

/** GlobalAveragePool: the gradient spread evenly over H×W. */
export const globalAveragePool: Rule = (node, [dy], _w, ctx) => {
  const x = node.inputs[0];
  const area = ctx.shape(x).slice(2).reduce((p, d) => p * d, 1);
  const scaled = ctx.b.node("Mul", [dy!, ctx.b.floats([1 / area], [])]);
  return [ctx.b.node("Expand", [scaled, ctx.shapeOf(x)])];
};

/** GlobalMaxPool: the gradient to every position holding the maximum. */
export const globalMaxPool: Rule = (node, [dy], _w, ctx) => {
  const x = node.inputs[0];
  const hit = mask(ctx, ctx.b.node("Equal", [x, node.outputs[0]]));
  const spread = ctx.b.node("Expand", [dy!, ctx.shapeOf(x)]);
  return [ctx.b.node("Mul", [spread, hit])];
};

/**
 * ReduceMean (`mean`) or ReduceSum: the gradient broadcast back over the
 * reduced axes (divided by their size for a mean).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { GradContext } from "./_grad_util.ts";
 * import { Builder } from "./ir.ts";
 * import { intAttr, intsAttr } from "./tensors.ts";
 * const b = new Builder("grad");
 * const shapes = new Map<string, readonly number[]>([["x", [-1, 8, 7, 7]]]);
 * // What buildBackward gives a rule: forward shapes, and a builder for its nodes.
 * const ctx: GradContext = {
 *   b,
 *   opset: 17,
 *   shape: (name) => shapes.get(name)!,
 *   constant: () => null,
 *   shapeOf: (name) => b.node("Shape", [name]),
 *   reduceSum: (x, axes) => b.node("ReduceSum", [x, b.ints(axes)], [intAttr("keepdims", 1)]),
 * };
 * const rules = { ReduceMean: reduceRule(true), ReduceSum: reduceRule(false) };
 * // y = ReduceMean(x, axes [2, 3], keepdims): a global average pool.
 * const node = {
 *   name: "pool", opType: "ReduceMean", domain: "", inputs: ["x"], outputs: ["y"],
 *   attributes: [intsAttr("axes", [2, 3])],
 * };
 * const [dx] = rules.ReduceMean(node, ["dy"], [true], ctx);
 * assert.deepEqual(b.nodes.map((n) => n.opType), ["Mul", "Shape", "Expand"]); // dy / 49, spread over H×W
 * assert.equal(dx, b.nodes.at(-1)?.outputs[0]);
 * ```
 */
export function reduceRule(mean: boolean): Rule {
  return (node, [dy], wants, ctx) => {
    only(node, { wants, ok: [0] });
    const x = node.inputs[0];
    const sx = ctx.shape(x);
    const axesInput = node.inputs[1] ? ctx.constant(node.inputs[1]) : null;
    if (node.inputs[1] && !axesInput) {
      throw new UnsupportedOpError(
        node.opType,
        node.name,
        " with computed axes",
      );
    }
    let axes = axesInput
      ? readInts(axesInput)
      : getInts(node, { name: "axes", fallback: [] })!;
    if (axes.length === 0) {
      if (getInt(node, { name: "noop_with_empty_axes", fallback: 0 })) {
        return [dy];
      }
      axes = [...sx.keys()];
    }
    axes = axes.map((a) => (a + sx.length) % sx.length);
    let g = dy!;
    if (!getInt(node, { name: "keepdims", fallback: 1 })) {
      const kept = sx.map((d, i) => (axes.includes(i) ? 1 : d));
      if (kept.filter((d) => d < 0).length > 1) {
        throw new UnsupportedOpError(
          node.opType,
          node.name,
          " on symbolic axes",
        );
      }
      g = ctx.b.node("Reshape", [g, ctx.b.ints(kept)]);
    }
    if (mean) {
      const count = axes.reduce((p, a) => p * sx[a], 1);
      if (count <= 0) {
        throw new UnsupportedOpError(
          node.opType,
          node.name,
          " on symbolic axes",
        );
      }
      g = ctx.b.node("Mul", [g, ctx.b.floats([1 / count], [])]);
    }
    return [ctx.b.node("Expand", [g, ctx.shapeOf(x)])];
  };
}

/** MaxPool: each output's gradient added at its argmax (`Indices`). */
export const maxPool: Rule = (node, [dy], _w, ctx) => {
  if (
    node.outputs.length < 2 ||
    getInt(node, { name: "storage_order", fallback: 0 }) !== 0
  ) {
    throw new UnsupportedOpError("MaxPool", node.name, " without indices");
  }
  const [x] = node.inputs;
  const flat = ctx.b.ints([-1]);
  const zeros = ctx.b.node("ConstantOfShape", [
    ctx.b.node("Shape", [ctx.b.node("Reshape", [x, flat])]),
  ]);
  // Indices are flat over N·C·H·W; windows may overlap, so contributions add.
  const scattered = ctx.b.node("ScatterElements", [
    zeros,
    ctx.b.node("Reshape", [node.outputs[1], flat]),
    ctx.b.node("Reshape", [dy!, flat]),
  ], [intAttr("axis", 0), stringAttr("reduction", "add")]);
  return [ctx.b.node("Reshape", [scattered, ctx.shapeOf(x)])];
};

/** Per-position window sizes along one axis (padding counted or not). */
function windowCounts(
  size: number,
  out: number,
  k: number,
  s: number,
  begin: number,
  end: number,
  includePad: boolean,
): number[] {
  return Array.from({ length: out }, (_, o) => {
    const lo = o * s - begin;
    const hi = lo + k;
    const min = includePad ? -begin : 0;
    const max = includePad ? size + end : size;
    return Math.max(0, Math.min(hi, max) - Math.max(lo, min));
  });
}

/** AveragePool: each output's gradient spread over its window. */
export const averagePool: Rule = (node, [dy], _w, ctx) => {
  const [x] = node.inputs;
  const sx = ctx.shape(x);
  const sy = ctx.shape(node.outputs[0]);
  const kernel = getInts(node, { name: "kernel_shape", fallback: [] })!;
  const r = kernel.length;
  const { strides, dilations } = windowSteps(node, r);
  if (dilations.some((d) => d !== 1) || r === 0) {
    throw new UnsupportedOpError("AveragePool", node.name, " with dilations");
  }
  const pads = explicitPads(node, { input: sx, kernel, strides, dilations });
  const includePad =
    getInt(node, { name: "count_include_pad", fallback: 0 }) === 1;
  const counts = kernel.map((k, i) =>
    windowCounts(
      sx[i + 2],
      sy[i + 2],
      k,
      strides[i],
      pads[i],
      pads[i + r],
      includePad,
    )
  );
  // The divisor of every output position: a product of per-axis counts.
  const outSpatial = sy.slice(2);
  const inverse: number[] = [];
  const walk = (axis: number, product: number) => {
    if (axis === r) {
      inverse.push(product > 0 ? 1 / product : 0);
      return;
    }
    for (const c of counts[axis]) walk(axis + 1, product * c);
  };
  walk(0, 1);
  const b = ctx.b;
  const scaled = b.node("Mul", [dy!, b.floats(inverse, [1, 1, ...outSpatial])]);
  // Each channel alone: one single-channel transposed conv with a ones kernel.
  const single = b.node("Reshape", [scaled, b.ints([-1, 1, ...outSpatial])]);
  const full = kernel.map((k, i) =>
    strides[i] * (outSpatial[i] - 1) + k - pads[i] - pads[i + r]
  );
  const outputPadding = full.map((f, i) => Math.max(0, sx[i + 2] - f));
  let spread = b.node("ConvTranspose", [
    single,
    b.floats(
      new Array(kernel.reduce((p, k) => p * k, 1)).fill(1),
      [1, 1, ...kernel],
    ),
  ], [
    intsAttr("kernel_shape", kernel),
    intsAttr("strides", strides),
    intsAttr("pads", pads),
    intsAttr("output_padding", outputPadding),
  ]);
  if (full.some((f, i) => f > sx[i + 2])) {
    // ceil_mode windows ran past the input: drop what they added.
    const axes = kernel.map((_, i) => i + 2);
    spread = b.node("Slice", [
      spread,
      b.ints(axes.map(() => 0)),
      b.ints(axes.map((a) => sx[a])),
      b.ints(axes),
    ]);
  }
  return [b.node("Reshape", [spread, ctx.shapeOf(x)])];
};
