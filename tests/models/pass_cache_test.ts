import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { hashInput } from "../../models/pass_cache.ts";
import { tinyRuntime } from "../_shared.ts";

function runtimeWith(cacheEntries: number) {
  return tinyRuntime("wasm", { cacheEntries });
}

const image = (seed: number) =>
  new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i * seed));

Deno.test("a repeat request on the same image skips the network and returns identical maps", async () => {
  const runtime = await runtimeWith(4);
  const x = image(0.3);
  const first = await runtime.run(x, {
    layer: "b_relu2",
    gradients: true,
    classIndex: 2,
  });
  const again = await runtime.run(x.slice(), {
    layer: "b_relu2",
    gradients: true,
    classIndex: 2,
  });
  assert.equal(runtime.counters.forward, 1);
  assert.equal(runtime.cache.stats.hits, 1);
  assert.deepEqual(again.activations, first.activations);
  assert.deepEqual(again.gradients, first.gradients);
  assert.deepEqual(again.logits, first.logits);
});

Deno.test("another class on a cached image equals a fresh computation", async () => {
  const cached = await runtimeWith(4);
  const fresh = await runtimeWith(0);
  const x = image(0.7);
  await cached.run(x, { layer: "b_relu2", gradients: true, classIndex: 1 });
  const hit = await cached.run(x, {
    layer: "b_relu2",
    gradients: true,
    classIndex: 5,
  });
  const cold = await fresh.run(x, {
    layer: "b_relu2",
    gradients: true,
    classIndex: 5,
  });
  assert.equal(cached.counters.forward, 1);
  assert.equal(cached.counters.backward, 2);
  assert.deepEqual(hit.gradients, cold.gradients);
  assert.deepEqual(hit.logits, cold.logits);
});

Deno.test("another layer or image misses; the cache is bounded and frees what it evicts", async () => {
  const runtime = await runtimeWith(2);
  await runtime.run(image(0.1), { layer: "b_out" });
  await runtime.run(image(0.1), { layer: "b_relu1" });
  assert.equal(runtime.counters.forward, 2);
  await runtime.run(image(0.15), { layer: "b_out" });
  await runtime.run(image(0.17), { layer: "b_out" });
  const before = tf.memory().numTensors;
  for (let i = 2; i < 12; i++) {
    await runtime.run(image(i / 10), { layer: "b_out" });
  }
  assert.equal(runtime.cache.size, 2);
  // Same number of entries, each as large as before: no growth.
  assert.equal(tf.memory().numTensors, before);
  runtime.cache.clear();
  assert.equal(runtime.cache.bytes, 0);
});

Deno.test("without a cache nothing is kept", async () => {
  const runtime = await runtimeWith(0);
  await runtime.run(image(0.2), { layer: "b_out" });
  const before = tf.memory().numTensors;
  await runtime.run(image(0.2), { layer: "b_out", gradients: true });
  assert.equal(runtime.counters.forward, 2);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("hashInput depends on every value", () => {
  const a = image(0.5);
  const b = a.slice();
  b[b.length - 1] += 1e-6;
  assert.notEqual(hashInput(a), hashInput(b));
  assert.equal(hashInput(a), hashInput(a.slice()));
});
