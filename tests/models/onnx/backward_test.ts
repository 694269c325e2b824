import assert from "node:assert/strict";
import type { Engine } from "../../../models/engine.ts";
import { loadOnnxEngine } from "../../../models/onnx/load.ts";
import type { AttributeProto, NodeProto } from "../../../models/onnx/proto.ts";
import {
  floatAttr,
  intAttr,
  intsAttr,
  stringAttr,
} from "../../../models/onnx/tensors.ts";
import { type Body, classifierBytes, random } from "./_onnx_fixtures.ts";

/** A client error, as `lib/errors.ts` makes it (code on the error or in extensions). */
type ClientErrorLike = Error & {
  code?: string;
  details?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
};
const errorCode = (e: ClientErrorLike) => e.code ?? e.extensions?.code;
const errorDetail = (e: ClientErrorLike, key: string) =>
  (e.details ?? e.extensions)?.[key];

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

/** Builds a body node by node, with seeded random weights. */
class BodyBuilder {
  nodes: NodeProto[] = [];
  weights: Body["weights"] = [];
  #next = random(11);
  #n = 0;

  op(
    opType: string,
    inputs: string[],
    attributes: AttributeProto[] = [],
  ): string {
    const out = `t${this.#n++}_${opType}`;
    this.nodes.push({
      name: out,
      opType,
      domain: "",
      inputs,
      outputs: [out],
      attributes,
    });
    return out;
  }

  weight(dims: number[], scale = 1, offset = 0): string {
    const name = `w${this.#n++}`;
    const size = dims.reduce((p, d) => p * d, 1);
    const data = Float32Array.from(
      { length: size },
      () => this.#next() * scale + offset,
    );
    this.weights.push({ name, dims, data });
    return name;
  }

  conv(
    x: string,
    cin: number,
    cout: number,
    k: number,
    attrs: AttributeProto[] = [],
    group = 1,
  ) {
    const scale = 1 / Math.sqrt((cin / group) * k * k);
    return this.op("Conv", [
      x,
      this.weight([cout, cin / group, k, k], scale),
      this.weight([cout], 0.1),
    ], [
      intAttr("group", group),
      ...attrs,
    ]);
  }

  /** An int64 constant, as a `Constant` node (the way PyTorch exports them). */
  ints(values: number[]): string {
    return this.op("Constant", [], [{
      name: "value",
      type: 4,
      t: {
        name: "",
        dims: [values.length],
        dataType: 7,
        rawData: new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer),
      },
    }]);
  }

  body(output: string, channels: number): Body {
    return { nodes: this.nodes, weights: this.weights, output, channels };
  }
}

async function engineFor(body: Body, size: number): Promise<Engine> {
  return await loadOnnxEngine(classifierBytes(body, { size }), { threads: 1 });
}

/**
 * Checks input gradients against central differences on the coordinates with
 * the largest gradients and a few random ones.
 */
async function checkInputGradients(engine: Engine, seed: number) {
  const next = random(seed);
  const size = engine.input.width * engine.input.height * 3;
  const x = Float32Array.from({ length: size }, next);
  const state = await engine.lower([x], engine.input.name);
  const r = await engine.upper(state, { gradients: true });
  state.dispose();
  const g = r.gradients![0].data;
  const c = r.classIndex[0];
  const order = [...g.keys()].sort((p, q) => Math.abs(g[q]) - Math.abs(g[p]));
  const max = Math.abs(g[order[0]]);
  assert.ok(max > 0, "a gradient flows to the input");
  const coords = [
    ...order.slice(0, 6),
    ...Array.from({ length: 6 }, () => Math.floor((next() + 1) / 2 * size)),
  ];
  const h = 1e-3;
  const plus = coords.map((i) => {
    const p = x.slice();
    p[i] += h;
    return p;
  });
  const minus = coords.map((i) => {
    const m = x.slice();
    m[i] -= h;
    return m;
  });
  const s = await engine.lower([...plus, ...minus], null);
  const { logits } = await engine.upper(s);
  s.dispose();
  coords.forEach((i, k) => {
    const fd = (logits[k][c] - logits[k + coords.length][c]) / (2 * h);
    assert.ok(
      Math.abs(fd - g[i]) <= 1e-2 * max,
      `input ${i}: finite difference ${fd}, gradient ${g[i]} (max ${max})`,
    );
  });
}

test("max pooling with overlapping windows: gradients match finite differences", async () => {
  const b = new BodyBuilder();
  const conv = b.conv("x", 3, 4, 3, [intsAttr("pads", [1, 1, 1, 1])]);
  // 3×3 windows at stride 2 overlap: MaxUnpool would lose the added shares.
  const pooled = b.op("MaxPool", [conv], [
    intsAttr("kernel_shape", [3, 3]),
    intsAttr("strides", [2, 2]),
    intsAttr("pads", [1, 1, 1, 1]),
  ]);
  const out = b.conv(pooled, 4, 6, 3, [intsAttr("pads", [1, 1, 1, 1])]);
  const engine = await engineFor(b.body(out, 6), 9);
  try {
    await checkInputGradients(engine, 1);
  } finally {
    engine.dispose();
  }
});

test("average pooling (padding excluded, ceil mode) and strided convolutions: gradients match finite differences", async () => {
  const b = new BodyBuilder();
  const conv = b.conv("x", 3, 4, 3, [
    intsAttr("strides", [2, 2]),
    intsAttr("pads", [0, 1, 1, 0]),
  ]);
  const pooled = b.op("AveragePool", [conv], [
    intsAttr("kernel_shape", [3, 3]),
    intsAttr("strides", [2, 2]),
    intsAttr("pads", [1, 1, 1, 1]),
    intAttr("ceil_mode", 1),
  ]);
  const same = b.conv(pooled, 4, 4, 2, [stringAttr("auto_pad", "SAME_UPPER")]);
  const dilated = b.conv(same, 4, 5, 3, [
    intsAttr("dilations", [2, 2]),
    intsAttr("pads", [2, 2, 2, 2]),
  ]);
  const engine = await engineFor(b.body(dilated, 5), 13);
  try {
    await checkInputGradients(engine, 2);
  } finally {
    engine.dispose();
  }
});

test("squeeze-excitation, SiLU, hard-swish, concat, pad and depthwise conv: gradients match finite differences", async () => {
  const b = new BodyBuilder();
  const stem = b.op("HardSwish", [
    b.conv("x", 3, 8, 3, [intsAttr("pads", [1, 1, 1, 1])]),
  ]);
  const squeezed = b.op("GlobalAveragePool", [stem]);
  const excite = b.op("HardSigmoid", [b.conv(squeezed, 8, 8, 1)], [
    floatAttr("alpha", 1 / 6),
  ]);
  const scaled = b.op("Mul", [stem, excite]);
  const silu = b.op("Mul", [scaled, b.op("Sigmoid", [scaled])]);
  const clipped = b.op("Clip", [
    stem,
    b.weight([], 0, 0),
    b.weight([], 0, 1.5),
  ]);
  const joined = b.op("Concat", [silu, clipped], [intAttr("axis", 1)]);
  const normed = b.op("BatchNormalization", [
    joined,
    b.weight([16], 0.5, 1),
    b.weight([16], 0.1),
    b.weight([16], 0.1),
    b.weight([16], 0.2, 1),
  ]);
  const leaky = b.op("LeakyRelu", [normed], [floatAttr("alpha", 0.1)]);
  const padded = b.op("Pad", [leaky, b.ints([0, 0, 1, 0, 0, 0, 0, 2])]);
  const depthwise = b.conv(padded, 16, 16, 3, [], 16);
  const out = b.op("Tanh", [depthwise]);
  const engine = await engineFor(b.body(out, 16), 8);
  try {
    await checkInputGradients(engine, 3);
  } finally {
    engine.dispose();
  }
});

test("matmul, transposes, reductions and arithmetic: gradients match finite differences", async () => {
  const b = new BodyBuilder();
  const conv = b.conv("x", 3, 4, 3, [intsAttr("pads", [1, 1, 1, 1])]);
  const nhwc = b.op("Transpose", [conv], [intsAttr("perm", [0, 2, 3, 1])]);
  const mixed = b.op("MatMul", [nhwc, b.weight([4, 6], 0.5)]);
  const back = b.op("Transpose", [mixed], [intsAttr("perm", [0, 3, 1, 2])]);
  const mean = b.op("ReduceMean", [back], [
    intsAttr("axes", [1]),
    intAttr("keepdims", 1),
  ]);
  const centred = b.op("Sub", [back, mean]);
  const divided = b.op("Div", [
    centred,
    b.op("Add", [b.op("Relu", [back]), b.weight([1], 0, 2)]),
  ]);
  const summed = b.op("Sum", [divided, back, b.op("Neg", [mean])]);
  const engine = await engineFor(b.body(summed, 6), 6);
  try {
    await checkInputGradients(engine, 4);
  } finally {
    engine.dispose();
  }
});

test("an op without a gradient rule: UNSUPPORTED_MODEL names it, logits still work", async () => {
  const b = new BodyBuilder();
  const out = b.op("Softsign", [
    b.conv("x", 3, 4, 3, [intsAttr("pads", [1, 1, 1, 1])]),
  ]);
  const engine = await engineFor(b.body(out, 4), 6);
  try {
    const x = Float32Array.from({ length: 6 * 6 * 3 }, random(5));
    const whole = await engine.lower([x], null);
    const { logits } = await engine.upper(whole);
    whole.dispose();
    assert.equal(logits[0].length, 5);
    const state = await engine.lower([x], engine.input.name);
    try {
      await assert.rejects(
        () => engine.upper(state, { gradients: true }),
        (e: ClientErrorLike) =>
          errorCode(e) === "UNSUPPORTED_MODEL" &&
          errorDetail(e, "op") === "Softsign" &&
          /op Softsign/.test(e.message),
      );
      // Forward passes from the same layer still run.
      const again = await engine.upper(state);
      assert.equal(again.logits[0].length, 5);
    } finally {
      state.dispose();
    }
    // Above the op, gradients need no rule for it.
    const pooled = engine.layers.find((l) => l.kind === "Softsign")!;
    const at = await engine.lower([x], pooled.name);
    const g = await engine.upper(at, { gradients: true });
    at.dispose();
    assert.ok(g.gradients![0].data.some((v) => v !== 0));
  } finally {
    engine.dispose();
  }
});
