import assert from "node:assert/strict";
import { activationExplainer } from "../../explainers/activation.ts";
import { gradCamExplainer } from "../../explainers/grad_cam.ts";
import { type ModelPass, type ModelRuntime } from "../../models/mod.ts";

// A 1×2 map with 2 channels: pixel 0 = (1, -3), pixel 1 = (2, 5).
const activations = {
  height: 1,
  width: 2,
  channels: 2,
  data: new Float32Array([1, -3, 2, 5]),
};
const gradients = {
  height: 1,
  width: 2,
  channels: 2,
  data: new Float32Array([0.5, -1, 1.5, 0]),
};
const pass: ModelPass = {
  logits: new Float32Array(2),
  probabilities: new Float32Array(2),
  classIndex: 0,
  layer: null,
  activations,
  gradients,
};
const ctx = { runtime: {} as ModelRuntime, pass, input: new Float32Array() };

Deno.test("activation is the channel sum, before ReLU and scaling", async () => {
  const map = await activationExplainer().explain(ctx, {});
  assert.deepEqual([...map.values], [-2, 7]);
});

Deno.test("gradcam weighs channels by their mean gradient, negative weights included", async () => {
  // w = (mean(0.5, 1.5), mean(-1, 0)) = (1, -0.5) → map = A·w =
  // (1 + 1.5, 2 − 2.5) = (2.5, −0.5): ReLU comes after the sum, not on the
  // weights (which would give (1, 2)).
  const map = await gradCamExplainer().explain(ctx, {});
  assert.deepEqual([...map.values], [2.5, -0.5]);
});
