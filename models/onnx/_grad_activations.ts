/**
 * Gradient rules for element-wise activations: Clip, HardSigmoid,
 * HardSwish, Sigmoid, Tanh, LeakyRelu (ReLU, the common one, stays with the
 * core rules).
 *
 * @module
 */
import { type GradContext, mask, only, type Rule } from "./_grad_util.ts";
import { floatAttr, getFloat } from "./tensors.ts";

/** Clip: dy where min < x < max (bounds from inputs, or attributes before opset 11). */
export const clip: Rule = (node, [dy], wants, ctx) => {
  only(node, { wants, ok: [0] });
  const x = node.inputs[0];
  let min: string | null = node.inputs[1] || null;
  let max: string | null = node.inputs[2] || null;
  if (ctx.opset < 11) {
    const lo = getFloat(node, { name: "min", fallback: -Infinity });
    const hi = getFloat(node, { name: "max", fallback: Infinity });
    min = lo === -Infinity ? null : ctx.b.floats([lo], []);
    max = hi === Infinity ? null : ctx.b.floats([hi], []);
  }
  const conditions = [
    min ? ctx.b.node("Greater", [x, min]) : null,
    max ? ctx.b.node("Less", [x, max]) : null,
  ].filter((c): c is string => c !== null);
  if (conditions.length === 0) return [dy];
  const inside = conditions.length === 2
    ? ctx.b.node("And", conditions)
    : conditions[0];
  return [ctx.b.node("Mul", [dy!, mask(ctx, inside)])];
};

/** d/dx of clip(αx + β, 0, 1): α inside the linear part, else 0. */
function hardSigmoidSlope(ctx: GradContext, x: string, a: number, b: number) {
  const z = ctx.b.node("Add", [
    ctx.b.node("Mul", [x, ctx.b.floats([a], [])]),
    ctx.b.floats([b], []),
  ]);
  const inside = ctx.b.node("And", [
    ctx.b.node("Greater", [z, ctx.b.floats([0], [])]),
    ctx.b.node("Less", [z, ctx.b.floats([1], [])]),
  ]);
  return ctx.b.node("Mul", [mask(ctx, inside), ctx.b.floats([a], [])]);
}

/** HardSigmoid: dy · α inside the linear part. */
export const hardSigmoid: Rule = (node, [dy], _w, ctx) => {
  const slope = hardSigmoidSlope(
    ctx,
    node.inputs[0],
    getFloat(node, { name: "alpha", fallback: 0.2 }),
    getFloat(node, { name: "beta", fallback: 0.5 }),
  );
  return [ctx.b.node("Mul", [dy!, slope])];
};

/** HardSwish: dy · (hs(x) + x·hs'(x)). */
export const hardSwish: Rule = (node, [dy], _w, ctx) => {
  // y = x·hs(x) with hs = clip(x/6 + 1/2, 0, 1): y' = hs(x) + x·hs'(x).
  const x = node.inputs[0];
  const hs = ctx.b.node("HardSigmoid", [x], [
    floatAttr("alpha", 1 / 6),
    floatAttr("beta", 0.5),
  ]);
  const slope = hardSigmoidSlope(ctx, x, 1 / 6, 0.5);
  const d = ctx.b.node("Add", [hs, ctx.b.node("Mul", [x, slope])]);
  return [ctx.b.node("Mul", [dy!, d])];
};

/** Sigmoid: dy · y(1 − y). */
export const sigmoid: Rule = (node, [dy], _w, ctx) => {
  const y = node.outputs[0];
  const oneMinus = ctx.b.node("Sub", [ctx.b.floats([1], []), y]);
  return [ctx.b.node("Mul", [dy!, ctx.b.node("Mul", [y, oneMinus])])];
};

/** Tanh: dy · (1 − y²). */
export const tanh: Rule = (node, [dy], _w, ctx) => {
  const y = node.outputs[0];
  const d = ctx.b.node("Sub", [
    ctx.b.floats([1], []),
    ctx.b.node("Mul", [y, y]),
  ]);
  return [ctx.b.node("Mul", [dy!, d])];
};

/** LeakyRelu: dy where x > 0, else α·dy. */
export const leakyRelu: Rule = (node, [dy], _w, ctx) => {
  const alpha = getFloat(node, { name: "alpha", fallback: 0.01 });
  const positive = ctx.b.node("Greater", [
    node.inputs[0],
    ctx.b.floats([0], []),
  ]);
  const scaled = ctx.b.node("Mul", [dy!, ctx.b.floats([alpha], [])]);
  return [ctx.b.node("Where", [positive, dy!, scaled])];
};
