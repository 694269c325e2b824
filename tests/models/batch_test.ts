import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { tinyRuntime } from "../_shared.ts";

const runtime = await tinyRuntime("wasm");
const size = 32 * 32 * 3;
const a = new Float32Array(size).map((_, i) => Math.sin(i * 0.37));
const b = new Float32Array(size).map((_, i) => Math.cos(i * 0.11));

function assertClose(x: Float32Array, y: Float32Array, tolerance = 1e-5) {
  assert.equal(x.length, y.length);
  x.forEach((v, i) =>
    assert.ok(
      Math.abs(v - y[i]) <= tolerance * Math.max(1, Math.abs(y[i])),
      `[${i}] ${v} vs ${y[i]}`,
    )
  );
}

Deno.test("batched logits equal one-by-one passes", async () => {
  const [la, lb] = await runtime.logits([a, b]);
  assertClose(la, (await runtime.run(a)).logits);
  assertClose(lb, (await runtime.run(b)).logits);
});

Deno.test("input gradients match finite differences", async () => {
  const { logits, gradients } = await runtime.inputGradients([a, b], 4);
  assertClose(logits[1], (await runtime.run(b)).logits);
  const eps = 1e-2;
  for (const i of [5, 777, 2050]) {
    const up = a.slice();
    const down = a.slice();
    up[i] += eps;
    down[i] -= eps;
    const [lu, ld] = await runtime.logits([up, down]);
    const fd = (lu[4] - ld[4]) / (2 * eps);
    assert.ok(
      Math.abs(fd - gradients[0][i]) < 1e-3,
      `pixel ${i}: ${gradients[0][i]} vs ${fd}`,
    );
  }
});

Deno.test("continuing from unmodified activations reproduces the logits, inside a residual block too", async () => {
  for (const layer of ["b_out", "b_relu2"]) {
    const pass = await runtime.run(a, { layer });
    const zeroed = pass.activations!.data.slice();
    for (let p = 0; p < zeroed.length; p += pass.activations!.channels) {
      zeroed[p] = 0;
    }
    const [same, changed] = await runtime.logitsFromActivations(a, layer, [
      pass.activations!.data,
      zeroed,
    ]);
    assertClose(same, pass.logits);
    assert.ok(changed.some((v, i) => Math.abs(v - pass.logits[i]) > 1e-4));
  }
});

Deno.test("batch methods leak no tensors", async () => {
  await runtime.logits([a]);
  const before = tf.memory().numTensors;
  await runtime.logits([a, b]);
  await runtime.inputGradients([a], 1);
  const pass = await runtime.run(a, { layer: "b_out" });
  await runtime.logitsFromActivations(a, "b_out", [pass.activations!.data]);
  assert.equal(tf.memory().numTensors, before);
});
