/**
 * Every method on the shipped ResNet-50 and chelsea.png (an Egyptian cat
 * filling most of the photo), with small options to keep the suite fast.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { analyzeImage } from "../../explainers/analysis.ts";
import { faithfulness } from "../../explainers/evaluation/faithfulness.ts";
import { createRegistry, GRADIENT_CAMS } from "../../explainers/registry.ts";
import type { Heatmap } from "../../lib/heatmap.ts";
import { fixtureImage, sharedResNet50 } from "../_shared.ts";

const registry = createRegistry();
const params = {
  scorecam: { topChannels: 8 },
  ablationcam: { topChannels: 16 },
  smoothgrad: { samples: 2, batchSize: 2 },
  integratedgradients: { steps: 2, batchSize: 2 },
  occlusion: { size: 80, stride: 48 },
};

/** The input, nudged so that no earlier test's cached pass is reused. */
async function chelseaInput(nudge: number): Promise<Float32Array> {
  const runtime = await sharedResNet50();
  const input = runtime.prepare(await fixtureImage("chelsea.png"));
  input[0] += nudge;
  return input;
}

/** Where a map's peak is on a 7×7 grid over the input (row, column). */
function peakCell(
  map: Heatmap,
  inputSize: number,
  cellOf: (i: number) => number,
) {
  const peak = map.values.indexOf(1);
  const row = Math.floor(peak / map.width);
  const col = peak % map.width;
  return [cellOf(row) * 7 / inputSize, cellOf(col) * 7 / inputSize].map(
    Math.floor,
  );
}

Deno.test("the six gradient-CAM variants on ResNet-50 cost one forward and one backward pass", async () => {
  const runtime = await sharedResNet50();
  const input = await chelseaInput(1e-3);
  const start = { ...runtime.counters };
  const analysis = await analyzeImage({ runtime, registry }, input, {
    methods: GRADIENT_CAMS,
    layer: "layer4",
  });
  for (const method of GRADIENT_CAMS) await analysis.explain(method);
  assert.equal(runtime.counters.forward - start.forward, 1);
  assert.equal(runtime.counters.backward - start.backward, 1);
  assert.equal(runtime.counters.batchItems - start.batchItems, 0);
});

Deno.test("every method's map on chelsea.png peaks on the cat, leaking no tensors", async () => {
  const runtime = await sharedResNet50();
  const analysis = await analyzeImage(
    { runtime, registry },
    await chelseaInput(2e-3),
    { methods: registry.names, layer: "layer4", params },
  );
  assert.equal(runtime.labels[analysis.classIndex], "Egyptian_cat");
  // The runtime builds each graph (and its fused weights) on first use:
  // build them before counting tensors.
  const zeros = new Float32Array(224 * 224 * 3);
  await runtime.logits([zeros]);
  await runtime.inputGradients([zeros], 0);
  const before = tf.memory().numTensors;
  for (const method of registry.names) {
    const { heatmap: map } = await analysis.explain(method);
    const explainer = registry.get(method);
    if (explainer.resolution !== "input") {
      assert.equal(map.width, 7, method);
      // As Grad-CAM's test: not the top or bottom row, not the left column.
      const [row, col] = peakCell(map, 7, (i) => i + 0.5);
      assert.ok(row >= 1 && row <= 5 && col >= 1, `${method}: ${row}, ${col}`);
    } else if (method === "occlusion") {
      // A 4×4 grid of 80-px patches every 48 px: cell i is centred at 48i + 40.
      const [row, col] = peakCell(map, 224, (i) => 48 * i + 40);
      assert.ok(row >= 1 && row <= 5 && col >= 1, `${method}: ${row}, ${col}`);
    } else {
      // Pixel maps spread over the whole cat, and raw gradients are
      // speckled (fur at the top edge among the highest): the check is on
      // their mass. Its centre lies in the middle of the photo, and the
      // right-most seventh (blurred background) holds less than its share.
      assert.equal(map.width, 224, method);
      let total = 0, cx = 0, cy = 0, right = 0;
      for (let y = 0; y < 224; y++) {
        for (let x = 0; x < 224; x++) {
          const v = map.values[y * 224 + x];
          total += v;
          cx += v * x;
          cy += v * y;
          if (x >= 192) right += v;
        }
      }
      const [row, col] = [cy / total, cx / total].map((c) =>
        Math.floor(c * 7 / 224)
      );
      assert.ok(row >= 2 && row <= 4 && col >= 2 && col <= 4, method);
      assert.ok(right / total < 1 / 7, `${method}: ${right / total}`);
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("Grad-CAM is faithful on chelsea.png: deletion falls faster than for the inverted map", async () => {
  const runtime = await sharedResNet50();
  const input = await chelseaInput(0);
  const analysis = await analyzeImage({ runtime, registry }, input, {
    methods: ["gradcam"],
    layer: "layer4",
  });
  const { heatmap } = await analysis.explain("gradcam");
  const inverted = { ...heatmap, values: heatmap.values.map((v) => 1 - v) };
  const score = (map: Heatmap) =>
    faithfulness(runtime, {
      input,
      classIndex: analysis.classIndex,
      map,
      steps: 4,
      baseline: "mean",
    });
  const good = await score(heatmap);
  const bad = await score(inverted);
  assert.ok(
    good.deletionAuc < bad.deletionAuc,
    `${good.deletionAuc} vs ${bad.deletionAuc}`,
  );
  assert.ok(
    good.insertionAuc > bad.insertionAuc,
    `${good.insertionAuc} vs ${bad.insertionAuc}`,
  );
  assert.ok(good.deletionAuc < good.insertionAuc);
});
