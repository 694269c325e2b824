import assert from "node:assert/strict";
import type * as tf from "@tensorflow/tfjs-core";
import {
  randomizeArtifacts,
  randomizedRuntime,
  RESNET50_DIR,
  topLayers,
} from "../../models/mod.ts";
import { inMemoryHandler, tinyResNet } from "../_shared.ts";
import { tiny, tinyInput } from "../explainers/_tiny.ts";

Deno.test("ResNet-50: one block randomizes res5c's three convolutions and fc1000", async () => {
  const json = JSON.parse(
    await Deno.readTextFile(`${RESNET50_DIR}ResNet50/model.json`),
  );
  const names = topLayers(json.modelTopology, 1);
  assert.deepEqual(
    names.filter((n) => /^(res|fc)/.test(n)),
    ["res5c_branch2a", "res5c_branch2b", "res5c_branch2c", "fc1000"],
  );
  assert.equal(topLayers(json.modelTopology, 3)[1], "res5a_branch2a");
});

Deno.test("randomizeArtifacts replaces only the top kernels, seeded, on a copy", async () => {
  await tiny(); // selects the backend the weights are built on
  const handler = await inMemoryHandler(tinyResNet());
  const artifacts = await handler.load!();
  const original = new Float32Array(
    (artifacts.weightData as ArrayBuffer).slice(0),
  );
  const view = (a: tf.io.ModelArtifacts) =>
    new Float32Array(a.weightData as ArrayBuffer);
  // The tiny net has a single block: one block is everything but the input.
  const all = randomizeArtifacts(artifacts, { blocks: 1 });
  assert.deepEqual(view(artifacts), original);
  let offset = 0;
  for (const spec of artifacts.weightSpecs!) {
    const size = spec.shape.reduce((p, d) => p * d, 1);
    const before = original.subarray(offset, offset + size);
    const after = view(all).subarray(offset, offset + size);
    if (spec.name.endsWith("/kernel")) {
      assert.notDeepEqual(after, before, spec.name);
      const fanIn = spec.shape.slice(0, -1).reduce((p, d) => p * d, 1);
      const variance = after.reduce((s, v) => s + v * v, 0) / size;
      assert.ok(variance < 4 / fanIn, `${spec.name}: variance ${variance}`);
    } else {
      assert.deepEqual(after, before, spec.name);
    }
    offset += size;
  }
  assert.deepEqual(view(randomizeArtifacts(artifacts)), view(all));
  assert.notDeepEqual(
    view(randomizeArtifacts(artifacts, { seed: 2 })),
    view(all),
  );
});

Deno.test("randomizedRuntime is loaded once per loader and options", async () => {
  await tiny();
  const handler = await inMemoryHandler(tinyResNet());
  let loads = 0;
  const load = () => {
    loads++;
    return handler.load!();
  };
  const options = { preprocessing: "tf", backend: "wasm" } as const;
  const a = randomizedRuntime(load, options);
  const b = randomizedRuntime(load, options);
  assert.equal(a, b);
  const other = randomizedRuntime(load, { ...options, seed: 5 });
  assert.notEqual(other, a);
  const [ra, rother] = await Promise.all([a, other]);
  assert.equal(loads, 2);
  const [la] = await ra.logits([tinyInput]);
  const [lo] = await rother.logits([tinyInput]);
  const [lt] = await (await tiny()).logits([tinyInput]);
  assert.notDeepEqual(la, lt);
  assert.notDeepEqual(la, lo);
});

Deno.test("a failed randomized load is not cached", async () => {
  let calls = 0;
  const load = () => {
    calls++;
    return Promise.reject(new Error("disk on fire"));
  };
  await assert.rejects(() => randomizedRuntime(load), /disk on fire/);
  await assert.rejects(() => randomizedRuntime(load), /disk on fire/);
  assert.equal(calls, 2);
});
