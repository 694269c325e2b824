/**
 * The gradient of each supported ONNX operator, written as ONNX nodes: given
 * a node and the gradient of its output, the nodes that compute the
 * gradients of the inputs that need one.
 *
 * @module
 */
import {
  averagePool,
  globalAveragePool,
  globalMaxPool,
  maxPool,
  reduceRule,
} from "./_grad_pool.ts";
import {
  clip,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  sigmoid,
  tanh,
} from "./_grad_activations.ts";
import {
  explicitPads,
  only,
  type Rule,
  unbroadcast,
  UnsupportedOpError,
  windowSteps,
} from "./_grad_util.ts";

export {
  type GradContext,
  type Rule,
  UnsupportedOpError,
} from "./_grad_util.ts";
import {
  floatAttr,
  getFloat,
  getInt,
  getInts,
  getString,
  intAttr,
  intsAttr,
  readInts,
} from "./tensors.ts";

// dy where the output is positive: a select is cheaper here than Mul(dy, Sign(y)).
const relu: Rule = (node, [dy], _w, ctx) => {
  const zero = ctx.b.floats([0], []);
  const positive = ctx.b.node("Greater", [node.outputs[0], zero]);
  return [ctx.b.node("Where", [positive, dy!, zero])];
};

const conv: Rule = (node, [dy], wants, ctx) => {
  only(node, { wants, ok: [0] });
  const [x, w] = node.inputs;
  const sx = ctx.shape(x);
  const sw = ctx.shape(w);
  const kernel = sw.slice(2);
  const r = kernel.length;
  const { strides, dilations } = windowSteps(node, r);
  const pads = explicitPads(node, { input: sx, kernel, strides, dilations });
  // ConvTranspose gives (out - 1)·s + extent − pads + output_padding rows;
  // the rows the forward's last window never reached come back as padding.
  const outputPadding = kernel.map((k, i) => {
    const extent = (k - 1) * dilations[i] + 1;
    return (sx[i + 2] + pads[i] + pads[i + r] - extent) % strides[i];
  });
  return [
    ctx.b.node("ConvTranspose", [dy!, w], [
      intAttr("group", getInt(node, { name: "group", fallback: 1 })),
      intsAttr("kernel_shape", kernel),
      intsAttr("strides", strides),
      intsAttr("dilations", dilations),
      intsAttr("pads", pads),
      intsAttr("output_padding", outputPadding),
    ]),
  ];
};

const gemm: Rule = (node, [dy], wants, ctx) => {
  const [a, bIn, c] = node.inputs;
  const alpha = getFloat(node, { name: "alpha", fallback: 1 });
  const beta = getFloat(node, { name: "beta", fallback: 1 });
  const transA = getInt(node, { name: "transA", fallback: 0 });
  const transB = getInt(node, { name: "transB", fallback: 0 });
  const g = (x: string, y: string, ta: number, tb: number) =>
    ctx.b.node("Gemm", [x, y], [
      floatAttr("alpha", alpha),
      intAttr("transA", ta),
      intAttr("transB", tb),
    ]);
  return [
    wants[0]
      ? transA ? g(bIn, dy!, transB, 1) : g(dy!, bIn, 0, transB ? 0 : 1)
      : null,
    wants[1]
      ? transB ? g(dy!, a, 1, transA) : g(a, dy!, transA ? 0 : 1, 0)
      : null,
    wants[2]
      ? unbroadcast(ctx, {
        grad: beta === 1
          ? dy!
          : ctx.b.node("Mul", [dy!, ctx.b.floats([beta], [])]),
        input: c,
        output: node.outputs[0],
      })
      : null,
  ];
};

const matMul: Rule = (node, [dy], wants, ctx) => {
  const [a, bIn] = node.inputs;
  const swap = (x: string) => {
    const rank = ctx.shape(x).length;
    if (rank < 2) {
      throw new UnsupportedOpError(node.opType, node.name, " on vectors");
    }
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return ctx.b.node("Transpose", [x], [intsAttr("perm", perm)]);
  };
  const y = node.outputs[0];
  return [
    wants[0]
      ? unbroadcast(ctx, {
        grad: ctx.b.node("MatMul", [dy!, swap(bIn)]),
        input: a,
        output: y,
      })
      : null,
    wants[1]
      ? unbroadcast(ctx, {
        grad: ctx.b.node("MatMul", [swap(a), dy!]),
        input: bIn,
        output: y,
      })
      : null,
  ];
};

const add: Rule = (node, [dy], wants, ctx) =>
  node.inputs.map((x, i) =>
    wants[i]
      ? unbroadcast(ctx, { grad: dy!, input: x, output: node.outputs[0] })
      : null
  );

const sub: Rule = (node, [dy], wants, ctx) => [
  wants[0]
    ? unbroadcast(ctx, {
      grad: dy!,
      input: node.inputs[0],
      output: node.outputs[0],
    })
    : null,
  wants[1]
    ? unbroadcast(ctx, {
      grad: ctx.b.node("Neg", [dy!]),
      input: node.inputs[1],
      output: node.outputs[0],
    })
    : null,
];

const mul: Rule = (node, [dy], wants, ctx) => {
  const [a, bIn] = node.inputs;
  const y = node.outputs[0];
  return [
    wants[0]
      ? unbroadcast(ctx, {
        grad: ctx.b.node("Mul", [dy!, bIn]),
        input: a,
        output: y,
      })
      : null,
    wants[1]
      ? unbroadcast(ctx, {
        grad: ctx.b.node("Mul", [dy!, a]),
        input: bIn,
        output: y,
      })
      : null,
  ];
};

const div: Rule = (node, [dy], wants, ctx) => {
  const [a, bIn] = node.inputs;
  const y = node.outputs[0];
  const da = wants[0] || wants[1] ? ctx.b.node("Div", [dy!, bIn]) : null;
  return [
    wants[0] ? unbroadcast(ctx, { grad: da!, input: a, output: y }) : null,
    wants[1]
      ? unbroadcast(ctx, {
        grad: ctx.b.node("Neg", [ctx.b.node("Mul", [da!, y])]),
        input: bIn,
        output: y,
      })
      : null,
  ];
};

const batchNorm: Rule = (node, [dy], wants, ctx) => {
  only(node, { wants, ok: [0] });
  const [x, scale, , , variance] = node.inputs;
  const eps = getFloat(node, { name: "epsilon", fallback: 1e-5 });
  const factor = ctx.b.node("Div", [
    scale,
    ctx.b.node("Sqrt", [
      ctx.b.node("Add", [variance, ctx.b.floats([eps], [])]),
    ]),
  ]);
  const ones = new Array(Math.max(0, ctx.shape(x).length - 2)).fill(1);
  const perChannel = ctx.b.node("Reshape", [factor, ctx.b.ints([-1, ...ones])]);
  return [ctx.b.node("Mul", [dy!, perChannel])];
};

const reshapeBack: Rule = (node, [dy], wants, ctx) => {
  only(node, { wants, ok: [0] });
  return [ctx.b.node("Reshape", [dy!, ctx.shapeOf(node.inputs[0])])];
};

const pass: Rule = (node, [dy], wants) => {
  only(node, { wants, ok: [0] });
  return [dy];
};

const transpose: Rule = (node, [dy], _w, ctx) => {
  const rank = ctx.shape(node.inputs[0]).length;
  const perm = getInts(node, {
    name: "perm",
    fallback: [...Array(rank).keys()].reverse(),
  })!;
  const inverse = new Array(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [ctx.b.node("Transpose", [dy!], [intsAttr("perm", inverse)])];
};

const concat: Rule = (node, [dy], wants, ctx) => {
  const rank = ctx.shape(node.outputs[0]).length;
  const axis = (getInt(node, { name: "axis", fallback: 0 }) + rank) % rank;
  let offset = 0;
  return node.inputs.map((x, i) => {
    const size = ctx.shape(x)[axis];
    const start = offset;
    offset += size;
    if (!wants[i]) return null;
    if (size < 0) {
      throw new UnsupportedOpError("Concat", node.name, " on a symbolic axis");
    }
    return ctx.b.node("Slice", [
      dy!,
      ctx.b.ints([start]),
      ctx.b.ints([start + size]),
      ctx.b.ints([axis]),
    ]);
  });
};

const pad: Rule = (node, [dy], wants, ctx) => {
  only(node, { wants, ok: [0] });
  if (getString(node, { name: "mode", fallback: "constant" }) !== "constant") {
    throw new UnsupportedOpError("Pad", node.name, " in a non-constant mode");
  }
  const sy = ctx.shape(node.outputs[0]);
  const rank = sy.length;
  let pads: number[] | null;
  if (ctx.opset < 11) pads = getInts(node, { name: "pads", fallback: null });
  else {
    const t = ctx.constant(node.inputs[1]);
    pads = t ? readInts(t) : null;
    const axesT = node.inputs[3] ? ctx.constant(node.inputs[3]) : null;
    if (pads && axesT) {
      const axes = readInts(axesT).map((a) => (a + rank) % rank);
      const full = new Array(2 * rank).fill(0);
      axes.forEach((a, i) => {
        full[a] = pads![i];
        full[a + rank] = pads![i + axes.length];
      });
      pads = full;
    }
  }
  if (!pads || pads.some((p) => p < 0)) {
    throw new UnsupportedOpError("Pad", node.name, " with computed pads");
  }
  const axes = [...Array(rank).keys()].filter((a) =>
    pads![a] !== 0 || pads![a + rank] !== 0
  );
  if (axes.length === 0) return [dy];
  return [ctx.b.node("Slice", [
    dy!,
    ctx.b.ints(axes.map((a) => pads![a])),
    ctx.b.ints(axes.map((a) => sy[a] - pads![a + rank])),
    ctx.b.ints(axes),
  ])];
};

/** Gradient rules by op type. */
export const RULES: Readonly<Record<string, Rule>> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  Add: add,
  Sum: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Neg: (_n, [dy], _w, ctx) => [ctx.b.node("Neg", [dy!])],
  Relu: relu,
  LeakyRelu: leakyRelu,
  Clip: clip,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Sigmoid: sigmoid,
  Tanh: tanh,
  BatchNormalization: batchNorm,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Pad: pad,
  Identity: pass,
  Dropout: pass,
  Cast: pass,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  ReduceMean: reduceRule(true),
  ReduceSum: reduceRule(false),
  MaxPool: maxPool,
  AveragePool: averagePool,
};
