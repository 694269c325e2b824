import assert from "node:assert/strict";
import { loadOnnxEngine } from "../../../models/onnx/load.ts";
import { encodeModel, type ModelProto } from "../../../models/onnx/proto.ts";
import { openSessions } from "../../../models/onnx/session.ts";
import { floatTensor, intAttr } from "../../../models/onnx/tensors.ts";
import { ModelLoadError } from "../../../models/tfjs/io.ts";
import {
  fixtureEngine,
  fixtureInfo,
  fixtureInput,
  fixturePath,
  maxRelative,
} from "./_onnx_fixtures.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

test("the engine reports ONNX Runtime, its threads and its weights", async () => {
  const engine = await loadOnnxEngine(fixturePath("resnet18.onnx"), {
    threads: 1,
    skipped: ["webgpu: none"],
  });
  try {
    assert.deepEqual(engine.info, {
      name: "onnxruntime",
      adapter: null,
      threads: 1,
      skipped: ["webgpu: none"],
    });
    assert.deepEqual(engine.input, { name: "input", width: 64, height: 64 });
    assert.equal(engine.classes, 10);
    const file = (await Deno.stat(fixturePath("resnet18.onnx"))).size;
    assert.ok(
      engine.weightBytes > 0.9 * file && engine.weightBytes < file,
      `${engine.weightBytes}`,
    );
  } finally {
    engine.dispose();
  }
});

test("sessions of evicted layers are rebuilt, and passes under way finish", async () => {
  const info = await fixtureInfo("resnet18");
  const x = fixtureInput(info);
  const engine = await loadOnnxEngine(fixturePath("resnet18.onnx"), {
    threads: 1,
    cachedLayers: 1,
  });
  const reference = await fixtureEngine("resnet18");
  try {
    const layers = ["layer1", "layer2", "layer3", "layer4"].map((alias) =>
      engine.layers.find((l) => l.aliases.includes(alias))!.name
    );
    // All at once: each new layer evicts the previous one's sessions.
    const results = await Promise.all(layers.map(async (layer) => {
      const state = await engine.lower([x], layer);
      try {
        return await engine.upper(state, { gradients: true });
      } finally {
        state.dispose();
      }
    }));
    for (const [i, layer] of layers.entries()) {
      const state = await reference.lower([x], layer);
      const r = await reference.upper(state, { gradients: true });
      state.dispose();
      assert.ok(
        maxRelative(results[i].gradients![0].data, r.gradients![0].data) < 1e-6,
        layer,
      );
    }
  } finally {
    engine.dispose();
    reference.dispose();
  }
  await assert.rejects(() => engine.lower([x], null), /disposed/);
});

test("dispose releases every session, and a create/dispose loop stays flat", async () => {
  const info = await fixtureInfo("mobilenet_v3_small");
  const x = fixtureInput(info);
  const before = openSessions();
  const cycle = async () => {
    const engine = await fixtureEngine("mobilenet_v3_small");
    for (const layer of [engine.defaultLayer, engine.input.name]) {
      const state = await engine.lower([x], layer);
      await engine.upper(state, { gradients: true });
      await engine.upper(state);
      state.dispose();
    }
    // Default layer: lower, upper, gradients; input: upper, gradients.
    assert.equal(openSessions(), before + 5);
    engine.dispose();
    assert.equal(openSessions(), before);
  };
  for (let i = 0; i < 3; i++) await cycle();
  const rss = Deno.memoryUsage().rss;
  for (let i = 0; i < 20; i++) await cycle();
  const grown = Deno.memoryUsage().rss - rss;
  // A cycle allocates ~10 MB (file, sessions, buffers); keeping them would
  // pass 200 MB, while allocator and garbage-collector slack stays small.
  assert.ok(
    grown < 100 * 2 ** 20,
    `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MB`,
  );
});

function model(
  options: { inputs?: number; outputRank?: number; softmax?: boolean },
): Uint8Array {
  const inputs = Array.from({ length: options.inputs ?? 1 }, (_, i) => ({
    name: `x${i}`,
    elemType: 1,
    shape: ["N", 3, 4, 4],
  }));
  const nodes: ModelProto["graph"]["nodes"] = [
    {
      name: "p",
      opType: "GlobalAveragePool",
      domain: "",
      inputs: ["x0"],
      outputs: ["p"],
      attributes: [],
    },
    {
      name: "f",
      opType: "Flatten",
      domain: "",
      inputs: ["p"],
      outputs: ["f"],
      attributes: [intAttr("axis", 1)],
    },
    {
      name: "g",
      opType: "Gemm",
      domain: "",
      inputs: ["f", "w"],
      outputs: ["g"],
      attributes: [],
    },
  ];
  let out = "g";
  if (options.softmax) {
    nodes.push({
      name: "s",
      opType: "Softmax",
      domain: "",
      inputs: ["g"],
      outputs: ["s"],
      attributes: [],
    });
    out = "s";
  }
  if (options.outputRank === 3) {
    nodes.push({
      name: "u",
      opType: "Unsqueeze",
      domain: "",
      inputs: [out, "axes"],
      outputs: ["u"],
      attributes: [],
    });
    out = "u";
  }
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "",
    producerVersion: "",
    graph: {
      name: "g",
      nodes,
      initializers: [
        floatTensor("w", {
          dims: [3, 2],
          data: new Float32Array([1, -1, 0.5, 2, -3, 1]),
        }),
        { name: "axes", dims: [1], dataType: 7, int64Data: [2] },
      ],
      inputs,
      outputs: [{ name: out, elemType: 1, shape: null }],
      valueInfo: [],
    },
  });
}

test("classifiers with several inputs or non-logits outputs are refused with the reason", async () => {
  await assert.rejects(
    () => loadOnnxEngine(model({ inputs: 2 }), { threads: 1 }),
    (e: Error) => e instanceof ModelLoadError && /2 inputs/.test(e.message),
  );
  await assert.rejects(
    () => loadOnnxEngine(model({ outputRank: 3 }), { threads: 1 }),
    (e: Error) =>
      e instanceof ModelLoadError && /\[N, classes\]/.test(e.message),
  );
  await assert.rejects(
    () => loadOnnxEngine(new Uint8Array([1, 2, 3]), { threads: 1 }),
    ModelLoadError,
  );
});

test("a final softmax is cut off: the engine gives logits", async () => {
  const plain = await loadOnnxEngine(model({}), { threads: 1 });
  const soft = await loadOnnxEngine(model({ softmax: true }), { threads: 1 });
  try {
    const x = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i));
    const [a, b] = await Promise.all([plain, soft].map(async (e) => {
      const s = await e.lower([x], null);
      const r = await e.upper(s);
      s.dispose();
      return r.logits[0];
    }));
    assert.deepEqual(b, a);
    assert.ok(
      Math.abs(a.reduce((s, v) => s + v, 0) - 1) > 0.01,
      "not probabilities",
    );
  } finally {
    plain.dispose();
    soft.dispose();
  }
});
