import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type { ModelPass } from "../../models/mod.ts";
import { tinyRuntime } from "../_shared.ts";

function runtimeWith(batchSize: number) {
  return tinyRuntime("wasm", { batchSize, batchWindowMs: 50 });
}

const image = (seed: number) =>
  new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i * seed));

function assertSamePass(a: ModelPass, b: ModelPass) {
  assert.equal(a.classIndex, b.classIndex);
  const close = (x: Float32Array, y: Float32Array) => {
    assert.equal(x.length, y.length);
    x.forEach((v, i) =>
      assert.ok(
        Math.abs(v - y[i]) <= 1e-5 * Math.max(1, Math.abs(y[i])),
        `[${i}] ${v} vs ${y[i]}`,
      )
    );
  };
  close(a.logits, b.logits);
  close(a.probabilities, b.probabilities);
  close(a.activations!.data, b.activations!.data);
  if (a.gradients || b.gradients) close(a.gradients!.data, b.gradients!.data);
}

const batched = await runtimeWith(4);
const single = await runtimeWith(1);

Deno.test("concurrent passes at one layer share one batch and equal single passes", async () => {
  const inputs = [0.1, 0.2, 0.3, 0.4].map(image);
  const before = batched.counters.batches;
  const results = await Promise.all(
    inputs.map((x) => batched.run(x, { layer: "b_relu2", gradients: true })),
  );
  assert.equal(batched.counters.batches - before, 1);
  for (const [i, x] of inputs.entries()) {
    assertSamePass(
      results[i],
      await single.run(x, { layer: "b_relu2", gradients: true }),
    );
  }
});

Deno.test("a given class is explained for every image of its batch", async () => {
  const inputs = [0.5, 0.6, 0.7].map(image);
  const results = await Promise.all(
    inputs.map((x) =>
      batched.run(x, { layer: "b_out", gradients: true, classIndex: 3 })
    ),
  );
  for (const [i, x] of inputs.entries()) {
    assert.equal(results[i].classIndex, 3);
    assertSamePass(
      results[i],
      await single.run(x, { layer: "b_out", gradients: true, classIndex: 3 }),
    );
  }
});

Deno.test("different layers are not mixed in one batch", async () => {
  const before = batched.counters.batches;
  const [a, b] = await Promise.all([
    batched.run(image(0.8), { layer: "b_out", gradients: true }),
    batched.run(image(0.9), { layer: "b_relu1", gradients: true }),
  ]);
  assert.equal(a.activations!.channels, 16);
  assert.equal(b.activations!.channels, 4);
  // Two groups of one: each ran alone once its window closed.
  assert.equal(batched.counters.batches - before, 0);
  assertSamePass(
    a,
    await single.run(image(0.8), { layer: "b_out", gradients: true }),
  );
  assertSamePass(
    b,
    await single.run(image(0.9), { layer: "b_relu1", gradients: true }),
  );
});

Deno.test("different class choices (two given classes, the top-1) are not mixed in one batch", async () => {
  const inputs = [0.95, 0.96, 0.97].map(image);
  const { classIndex: top } = await single.run(inputs[2], { layer: "b_out" });
  // Two given classes that differ from each other and from the top-1.
  const [c1, c2] = [(top + 1) % 10, (top + 2) % 10];
  const asks = [
    { layer: "b_out", gradients: true, classIndex: c1 },
    { layer: "b_out", gradients: true, classIndex: c2 },
    { layer: "b_out", gradients: true },
  ];
  const before = batched.counters.batches;
  const results = await Promise.all(
    inputs.map((x, i) => batched.run(x, asks[i])),
  );
  assert.deepEqual(results.map((r) => r.classIndex), [c1, c2, top]);
  // Three groups of one.
  assert.equal(batched.counters.batches - before, 0);
  for (const [i, x] of inputs.entries()) {
    assertSamePass(results[i], await single.run(x, asks[i]));
  }
});

Deno.test("batching leaks no tensors", async () => {
  const inputs = [1.1, 1.2, 1.3, 1.4].map(image);
  await Promise.all(
    inputs.map((x) => batched.run(x, { layer: "b_out", gradients: true })),
  );
  const before = tf.memory().numTensors;
  const others = [2.1, 2.2, 2.3, 2.4].map(image);
  await Promise.all(
    others.map((x) => batched.run(x, { layer: "b_out", gradients: true })),
  );
  assert.equal(tf.memory().numTensors, before);
});
