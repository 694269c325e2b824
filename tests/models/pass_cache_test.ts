import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { createRuntime, type LowerState } from "../../models/mod.ts";
import { createPassCache, hashInput } from "../../models/pass_cache.ts";
import { loadTfjsEngine } from "../../models/tfjs/engine.ts";
import { inMemoryHandler, tinyResNet, tinyRuntime } from "../_shared.ts";

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

Deno.test("the cache evicts the least recently used state, not the oldest", async () => {
  const runtime = await runtimeWith(2);
  const [a, b, c] = [0.21, 0.22, 0.23].map(image);
  const pass = (x: Float32Array) => runtime.run(x, { layer: "b_out" });
  await pass(a);
  await pass(b);
  await pass(a); // a hit: a is now the most recent, b the least
  assert.equal(runtime.cache.stats.hits, 1);
  await pass(c); // full: evicts b (first-in-first-out would evict a)
  const forwards = runtime.counters.forward;
  await pass(a);
  assert.equal(runtime.counters.forward, forwards, "a was kept");
  assert.equal(runtime.cache.stats.hits, 2);
  await pass(b);
  assert.equal(runtime.counters.forward, forwards + 1, "b was evicted");
});

/** A runtime on the tiny network whose pass cache holds `cacheBytes`. */
async function runtimeWithBytes(cacheBytes: number) {
  const model = tinyResNet();
  const handler = await inMemoryHandler(model);
  model.dispose();
  const engine = await loadTfjsEngine({ model: handler, backend: "wasm" });
  return createRuntime(engine, {
    name: "tiny",
    labels: Array.from({ length: 10 }, (_, i) => `class_${i}`),
    preprocessing: "tf",
    cacheEntries: 8,
    cacheBytes,
  });
}

Deno.test("the cache holds at most its byte budget, evicting the least recent", async () => {
  const probe = await runtimeWith(1);
  await probe.run(image(0.31), { layer: "b_out" });
  const stateBytes = probe.cache.bytes;
  assert.ok(stateBytes > 0);
  // Room for two states and a half: the third evicts the first.
  const runtime = await runtimeWithBytes(Math.floor(2.5 * stateBytes));
  const inputs = [0.31, 0.32, 0.33, 0.34].map(image);
  for (const x of inputs) await runtime.run(x, { layer: "b_out" });
  assert.equal(runtime.cache.size, 2);
  assert.equal(runtime.cache.bytes, 2 * stateBytes);
  const forwards = runtime.counters.forward;
  await runtime.run(inputs[3], { layer: "b_out" });
  await runtime.run(inputs[2], { layer: "b_out" });
  assert.equal(runtime.counters.forward, forwards, "the last two were kept");
  await runtime.run(inputs[0], { layer: "b_out" });
  assert.equal(runtime.counters.forward, forwards + 1, "the first was not");
  runtime.dispose();
});

/**
 * A state that only claims its size: 128 MiB of real activations would be
 * thousands of tiny-network passes, and the cache only reads `bytes`.
 */
function sizedState(bytes: number) {
  let disposed = false;
  const state: LowerState & { readonly disposed: boolean } = {
    layer: "b_out",
    batch: 1,
    bytes,
    dispose: () => disposed = true,
    get disposed() {
      return disposed;
    },
  };
  return state;
}

Deno.test("the cache's default byte budget is 128 MiB", () => {
  const cache = createPassCache({ maxEntries: 8 });
  const half = sizedState(64 * 1024 * 1024);
  const other = sizedState(64 * 1024 * 1024);
  cache.set("a", half);
  cache.set("b", other);
  // Exactly 128 MiB fits.
  assert.equal(cache.size, 2);
  assert.equal(cache.bytes, 128 * 1024 * 1024);
  const more = sizedState(1);
  cache.set("c", more);
  assert.equal(cache.size, 2);
  assert.equal(half.disposed, true, "the least recent state is freed");
  assert.equal(other.disposed, false);
  assert.equal(cache.has("a"), false);
  assert.equal(cache.bytes, 64 * 1024 * 1024 + 1);
  cache.clear();
  assert.equal(other.disposed && more.disposed, true);
});

Deno.test("hashInput depends on every value", () => {
  const a = image(0.5);
  const b = a.slice();
  b[b.length - 1] += 1e-6;
  assert.notEqual(hashInput(a), hashInput(b));
  assert.equal(hashInput(a), hashInput(a.slice()));
});
