/**
 * A TF.js layers model exported to ONNX runs on ONNX Runtime with the same
 * numbers as the TF.js engine: the tiny ResNet at every layer, the shipped
 * ResNet-50 at `layer4` and inside stage 5.
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Engine } from "../../../models/engine.ts";
import { RESNET50_MODEL } from "../../../models/load.ts";
import { createRuntime } from "../../../models/runtime.ts";
import { onnxEngine } from "../../../models/onnx/engine.ts";
import { exportedModelBytes } from "../../../models/onnx/export_tfjs.ts";
import { exportTfjsModel, loadOnnxEngine } from "../../../models/onnx/load.ts";
import { decodeModel } from "../../../models/onnx/proto.ts";
import { loadOrt } from "../../../models/onnx/session.ts";
import { selectBackend } from "../../../models/tfjs/backend.ts";
import { loadTfjsEngine } from "../../../models/tfjs/engine.ts";
import { ModelLoadError } from "../../../models/tfjs/io.ts";
import { fixtureImage, inMemoryHandler, tinyResNet } from "../../_shared.ts";
import { maxRelative, random } from "./_onnx_fixtures.ts";

const test = (name: string, fn: (t: Deno.TestContext) => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

/** Compares one pass of both engines at `layer`; returns the largest difference. */
async function compare(
  tfjs: Engine,
  onnx: Engine,
  input: Float32Array,
  layer: string | null,
  what: { classIndex?: number | undefined } = {},
): Promise<{ logits: number; activations: number; gradients: number }> {
  const results = [];
  for (const engine of [tfjs, onnx]) {
    const state = await engine.lower([input], layer);
    results.push(
      await engine.upper(state, {
        gradients: layer !== null,
        activations: layer !== null,
        classIndex: what.classIndex,
      }),
    );
    state.dispose();
  }
  const [t, o] = results;
  assert.deepEqual(o.classIndex, t.classIndex);
  return {
    logits: maxRelative(o.logits[0], t.logits[0]),
    activations: layer === null || layer === onnx.input.name
      ? 0
      : maxRelative(o.activations![0].data, t.activations![0].data),
    gradients: layer === null
      ? 0
      : maxRelative(o.gradients![0].data, t.gradients![0].data),
  };
}

for (const where of ["in memory", "on a weights file"]) {
  test(`the tiny ResNet, weights ${where}: every layer's activations and gradients equal TF.js'`, async () => {
    const folder = where === "in memory" ? null : await Deno.makeTempDir();
    try {
      await compareTinyResNet(folder);
    } finally {
      if (folder) await Deno.remove(folder, { recursive: true });
    }
  });
}

async function compareTinyResNet(weightsFolder: string | null) {
  await selectBackend("cpu");
  const model = tinyResNet({ size: 24 });
  const handler = await inMemoryHandler(model);
  model.dispose();
  const tfjs = await loadTfjsEngine({ model: handler, backend: "cpu" });
  const onnx = await loadOnnxEngine(handler, { threads: 1, weightsFolder });
  try {
    if (weightsFolder) {
      // Every kernel is in the file: the graphs hold only small values.
      const source = await exportTfjsModel(handler, { weightsFolder });
      const { graph } = source.graphFor(null);
      const large = [...graph.initializers.values()].filter((t) =>
        (t.rawData?.byteLength ?? 0) >= 1024
      );
      assert.deepEqual(large.map((t) => t.name), []);
      assert.ok([...graph.initializers.values()].some((t) => t.external));
      // A bare session still gets one self-contained file: the same bytes.
      assert.deepEqual(
        exportedModelBytes(source),
        exportedModelBytes(await exportTfjsModel(handler)),
      );
      source.weightsFile?.close();
    }
    assert.deepEqual(
      onnx.layers.map((l) => [l.name, l.kind, l.shape, l.spatial, l.aliases]),
      tfjs.layers.map((l) => [l.name, l.kind, l.shape, l.spatial, l.aliases]),
    );
    assert.equal(onnx.defaultLayer, tfjs.defaultLayer);
    const x = Float32Array.from({ length: 24 * 24 * 3 }, random(9));
    const layers = [
      null,
      onnx.input.name,
      ...onnx.layers.filter((l) => l.spatial).map((l) => l.name),
    ];
    for (const layer of layers) {
      for (const classIndex of [undefined, 3]) {
        const d = await compare(tfjs, onnx, x, layer, { classIndex });
        for (const [k, v] of Object.entries(d)) {
          assert.ok(v < 1e-4, `${layer} ${k}: ${v}`);
        }
      }
    }
  } finally {
    tfjs.dispose();
    onnx.dispose();
  }
}

test("a layer the export does not know is named in the error", async () => {
  await selectBackend("cpu");
  const input = tfl.input({ shape: [8, 8, 3] });
  const y = tfl.layers.depthwiseConv2d({ kernelSize: 3, name: "dw" }).apply(
    input,
  ) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2 }).apply(
    tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor,
  ) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const handler = await inMemoryHandler(model);
  model.dispose();
  await assert.rejects(
    () => exportTfjsModel(handler),
    (e: Error) =>
      e instanceof ModelLoadError && /"dw"/.test(e.message) &&
      /DepthwiseConv2D/.test(e.message),
  );
});

test("the shipped ResNet-50 on ONNX Runtime equals TF.js WASM at layer4 and inside stage 5", async (t) => {
  const tfjs = await loadTfjsEngine({
    model: RESNET50_MODEL,
    backend: "wasm",
    threads: 1,
  });
  const ort = await loadOrt();
  const source = await exportTfjsModel(RESNET50_MODEL);
  const onnx = onnxEngine(ort, source);
  try {
    const labels = Array.from({ length: tfjs.classes }, (_, i) => `${i}`);
    const input = createRuntime(tfjs, { name: "r", labels }).prepare(
      await fixtureImage("chelsea.png"),
    );

    await t.step("logits", async () => {
      const d = await compare(tfjs, onnx, input, null);
      assert.ok(d.logits < 1e-4, `logits: ${d.logits}`);
    });
    // activation_48 is layer4's output; activation_40 is the first ReLU
    // inside res5a, where a residual skip crosses the cut.
    for (const layer of ["activation_48", "activation_40"]) {
      await t.step(`activations and gradients at ${layer}`, async () => {
        const d = await compare(tfjs, onnx, input, layer);
        for (const [k, v] of Object.entries(d)) {
          assert.ok(v < 1e-4, `${layer} ${k}: ${v}`);
        }
      });
    }

    await t.step(
      "the exported file is the fused graph a bare session runs",
      async () => {
        const source = await exportTfjsModel(RESNET50_MODEL);
        const bytes = exportedModelBytes(source);
        const ops = decodeModel(bytes).graph.nodes.map((n) => n.opType);
        const count = (op: string) => ops.filter((o) => o === op).length;
        // BatchNorm folded into the 53 convolutions; no separate affine left.
        assert.equal(count("Conv"), 53);
        assert.equal(count("BatchNormalization") + count("Mul"), 0);
        assert.equal(count("Relu"), 49);
        assert.equal(count("Softmax"), 0);
        const ort = await loadOrt();
        const session = await ort.InferenceSession.create(bytes);
        try {
          const out = await session.run({
            [session.inputNames[0]]: new ort.Tensor("float32", input, [
              1,
              224,
              224,
              3,
            ]),
          });
          const state = await onnx.lower([input], null);
          const { logits } = await onnx.upper(state);
          state.dispose();
          assert.ok(
            maxRelative(
              out[session.outputNames[0]].data as Float32Array,
              logits[0],
            ) < 1e-5,
          );
        } finally {
          await session.release();
        }
      },
    );
  } finally {
    tfjs.dispose();
    onnx.dispose();
  }
});
