import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { compileGraph, describeModel } from "../../models/tfjs/graph.ts";
import { executeGraph } from "../../models/tfjs/execute.ts";
import { RESNET50_DIR } from "../../models/mod.ts";
import { fileHandler } from "../../models/tfjs/io.ts";
import { topClasses } from "../../explainers/analysis.ts";
import { fixtureImage, sharedResNet50 } from "../_shared.ts";

Deno.test("chelsea.png is an Egyptian cat (p 0.931), then tabby and tiger cat", async () => {
  const runtime = await sharedResNet50();
  const pass = await runtime.run(
    runtime.prepare(await fixtureImage("chelsea.png")),
  );
  const top = topClasses(pass.probabilities, runtime.labels, { top: 3 });
  assert.equal(top[0].label, "Egyptian_cat");
  // 0.931 as the README and the PyTorch peer on the same weights give it:
  // the tolerance allows float32 summation order, not a preprocessing or
  // resize error (those move it by a percent or more).
  assert.ok(
    Math.abs(top[0].probability - 0.931) < 0.002,
    `p = ${top[0].probability}`,
  );
  assert.deepEqual(top.slice(1).map((p) => p.label).sort(), [
    "tabby",
    "tiger_cat",
  ]);
});

Deno.test("coffee.png is an espresso", async () => {
  const runtime = await sharedResNet50();
  const pass = await runtime.run(
    runtime.prepare(await fixtureImage("coffee.png")),
  );
  const [top] = topClasses(pass.probabilities, runtime.labels, { top: 1 });
  assert.equal(top.label, "espresso");
  assert.ok(
    Math.abs(top.probability - 0.984) < 0.002,
    `p = ${top.probability}`,
  );
});

Deno.test("the runtime reports its backend, input size, labels and layers", async () => {
  const runtime = await sharedResNet50();
  assert.equal(runtime.backend.name, "wasm");
  assert.deepEqual(runtime.inputSize, { width: 224, height: 224 });
  assert.equal(runtime.labels.length, 1000);
  assert.equal(runtime.labels[285], "Egyptian_cat");
  assert.equal(runtime.catalog.layers.length, 177);
  assert.equal(runtime.catalog.defaultLayer, "activation_48");
  const last = runtime.catalog.resolve("activation_48");
  assert.deepEqual(last.shape, [7, 7, 2048]);
  assert.equal(last.kind, "Activation");
});

Deno.test("50 predictions leave the tensor count unchanged", async () => {
  const runtime = await sharedResNet50();
  const input = runtime.prepare(await fixtureImage("coffee.png"));
  await runtime.run(input);
  runtime.cache.clear();
  const before = tf.memory().numTensors;
  const passes = runtime.counters.forward;
  for (let i = 0; i < 50; i++) {
    // Every input differs, so each is a real pass, not a cache hit.
    input[i] += 1;
    await runtime.run(input, { layer: i % 2 ? "layer4" : null });
  }
  assert.equal(runtime.counters.forward - passes, 50);
  runtime.cache.clear();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("the fused graph equals the layers model within 1e-4", async () => {
  const runtime = await sharedResNet50();
  const input = runtime.prepare(await fixtureImage("chelsea.png"));
  const model = await tfl.loadLayersModel(
    fileHandler(`${RESNET50_DIR}ResNet50/model.json`),
  );
  try {
    const source = describeModel(model);
    const x = tf.tensor4d(input, [1, 224, 224, 3]);
    const fusedOps = compileGraph(source).nodes.length;
    assert.ok(fusedOps < 0.6 * source.order.length, `${fusedOps} nodes`);
    for (const layer of ["activation_39", "res5a_branch2a", "activation_48"]) {
      const graph = compileGraph(source, { boundary: layer });
      const result = executeGraph(graph, x, { boundary: layer });
      const body = tfl.model({
        inputs: model.inputs,
        outputs: model.getLayer(layer).output as tfl.SymbolicTensor,
      });
      const expected = body.predict(x) as tf.Tensor;
      const probs = model.predict(x) as tf.Tensor;
      const fusedProbs = tf.softmax(result.logits);
      const check = async (a: tf.Tensor, b: tf.Tensor, what: string) => {
        const [va, vb] = [await a.data(), await b.data()];
        let scale = 0;
        for (const v of vb) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < va.length; i++) {
          assert.ok(
            Math.abs(va[i] - vb[i]) <= 1e-4 * scale,
            `${what} [${i}]: ${va[i]} vs ${vb[i]}`,
          );
        }
      };
      await check(result.activations!, expected, layer);
      await check(fusedProbs, probs, `probabilities via ${layer}`);
      tf.dispose([result.logits, result.classIndex, result.activations!]);
      tf.dispose([expected, probs, fusedProbs]);
    }
    x.dispose();
  } finally {
    model.dispose();
  }
});
