/**
 * `models/batch_limits.ts`: a batched pass takes as many items as fit in
 * the memory budget (from the engine's estimate per item) and, once passes
 * of its kind were timed, as many as fit in the time budget; a user's
 * `batchSize` is only a hint below both. On the real engines: ONNX Runtime
 * (torchvision ResNet-18 fixture) and TF.js WASM (the tiny network).
 */
import assert from "node:assert/strict";
import { analyzeImage } from "../../explainers/analysis.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { createBatchLimits } from "../../models/batch_limits.ts";
import { createRuntime } from "../../models/runtime.ts";
import { selectBackend } from "../../models/tfjs/backend.ts";
import { loadTfjsEngine } from "../../models/tfjs/engine.ts";
import { inMemoryHandler, tinyResNet } from "../_shared.ts";
import { fixtureEngine } from "./onnx/_onnx_fixtures.ts";
import { tinyInput } from "../explainers/_tiny.ts";

Deno.test("batch sizes fit the memory budget for each kind of pass, and never go below 1", async () => {
  const engine = await fixtureEngine("resnet18");
  try {
    const forward = engine.itemBytes(null, false);
    const gradients = engine.itemBytes(engine.input.name, true);
    const inner = engine.defaultLayer;
    const fromInner = engine.itemBytes(inner, false);
    // A gradient pass keeps the tape: each item costs more than a forward.
    assert.ok(gradients > forward, `${gradients} <= ${forward}`);
    const budget = 10 * forward + 1;
    const limits = createBatchLimits(engine, {
      batchBytes: budget,
      batchMs: 250,
    });
    for (
      const [kind, perItem] of [
        [{}, forward],
        [{ gradients: true }, gradients],
        [{ layer: inner }, fromInner],
      ] as const
    ) {
      const n = limits.maxBatch(kind);
      assert.ok(n * perItem <= budget, `${JSON.stringify(kind)}: ${n} items`);
      assert.ok((n + 1) * perItem > budget, `${JSON.stringify(kind)}: ${n}`);
    }
    assert.equal(limits.maxBatch({}), 10);
    assert.ok(limits.maxBatch({ gradients: true }) < 10);
    const starved = createBatchLimits(engine, { batchBytes: 1, batchMs: 250 });
    assert.equal(starved.maxBatch({}), 1);
    assert.equal(starved.maxBatch({ gradients: true }), 1);
  } finally {
    engine.dispose();
  }
});

Deno.test("once a kind of pass is timed, batches fit the time budget too", async () => {
  const engine = await fixtureEngine("resnet18");
  try {
    // A budget far below one item's time: one item per batch once timed.
    const limits = createBatchLimits(engine, {
      batchBytes: 1024 ** 3,
      batchMs: 1e-3,
    });
    const byMemory = limits.maxBatch({});
    assert.ok(byMemory > 1, `memory alone allows ${byMemory}`);
    const { width, height } = engine.input;
    const inputs = [0, 1, 2].map((n) =>
      new Float32Array(width * height * 3).map((_, i) => Math.sin(i + n))
    );
    const start = performance.now();
    const state = await engine.lower(inputs, null);
    try {
      await engine.upper(state);
    } finally {
      state.dispose();
    }
    limits.observe("forward", start, inputs.length);
    assert.equal(limits.maxBatch({}), 1);
    // Gradient passes, not timed yet, are guessed from the forward's time.
    assert.equal(limits.maxBatch({ gradients: true }), 1);
  } finally {
    engine.dispose();
  }
});

Deno.test("a user's batchSize is a hint: a batch never takes more items than the budget allows", async () => {
  const registry = createRegistry();
  // The tiny network on WASM, built as loadModel does but with the time
  // budget out of the way: on two busy cores a timed pass could otherwise
  // cap a batch below the hint (seen: [3, 4, 3]), and this test is about
  // the memory budget and the hint.
  // Build the weights on WASM, as tinyRuntime does.
  await selectBackend("wasm");
  const model = tinyResNet();
  const handler = await inMemoryHandler(model);
  model.dispose();
  /** Items of each batch smoothgrad runs, read from progress events. */
  const batches = async (batchBytes: number | undefined, hint: number) => {
    const engine = await loadTfjsEngine({ model: handler, backend: "wasm" });
    const runtime = createRuntime(engine, {
      name: "tiny",
      labels: Array.from({ length: engine.classes }, (_, i) => `c${i}`),
      preprocessing: "tf",
      batchMs: Number.MAX_SAFE_INTEGER,
      ...(batchBytes === undefined ? {} : { batchBytes }),
    });
    try {
      const analysis = await analyzeImage({ runtime, registry }, tinyInput, {
        methods: ["smoothgrad"],
        layer: "b_out",
        params: { smoothgrad: { samples: 10, batchSize: hint } },
      });
      const sizes: number[] = [];
      let before = runtime.counters.batchItems;
      await analysis.explain("smoothgrad", {
        onProgress: () => {
          sizes.push(runtime.counters.batchItems - before);
          before = runtime.counters.batchItems;
        },
      });
      return sizes;
    } finally {
      runtime.dispose();
    }
  };
  // A budget below one item: batchSize 256 still runs one item at a time.
  assert.deepEqual(await batches(1, 256), Array(10).fill(1));
  // Within the default budget (512 MiB) the hint is followed.
  assert.deepEqual(await batches(undefined, 4), [4, 4, 2]);
});
