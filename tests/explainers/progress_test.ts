/**
 * Long methods report progress in order, ending with 1 when the map is
 * ready, and stop when the request is abandoned.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { analyzeImage } from "../../explainers/analysis.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { tiny, tinyInput } from "./_tiny.ts";

const registry = createRegistry();
// Small batches, so that each method reports several steps.
const params: Record<string, unknown> = {
  scorecam: { batchSize: 3 },
  ablationcam: { batchSize: 3 },
  occlusion: { batchSize: 40 },
  smoothgrad: { samples: 6, batchSize: 2 },
  integratedgradients: { steps: 8, batchSize: 3 },
};

for (const method of Object.keys(params)) {
  Deno.test(`${method}: progress is non-decreasing and ends with 1, then the map`, async () => {
    const runtime = await tiny();
    const analysis = await analyzeImage({ runtime, registry }, tinyInput, {
      methods: [method],
      layer: "b_out",
      params,
    });
    const events: (number | "map")[] = [];
    const result = analysis.explain(method, {
      onProgress: (f) => events.push(f),
    });
    result.then(() => events.push("map"));
    await result;
    await Promise.resolve();
    assert.ok(events.length >= 3, `only ${events.length} events`);
    assert.equal(events.at(-1), "map");
    const fractions = events.slice(0, -1) as number[];
    assert.equal(fractions.at(-1), 1);
    for (let i = 0; i < fractions.length; i++) {
      assert.ok(fractions[i] > 0 && fractions[i] <= 1, `${fractions[i]}`);
      if (i > 0) assert.ok(fractions[i] >= fractions[i - 1], `${fractions}`);
    }
  });

  Deno.test(`${method}: stops with the signal's reason when aborted, leaks nothing, then can run again`, async () => {
    const runtime = await tiny();
    const analysis = await analyzeImage({ runtime, registry }, tinyInput, {
      methods: [method],
      layer: "b_out",
      params,
    });
    const controller = new AbortController();
    const reason = new Error("client went away");
    const before = tf.memory().numTensors;
    const items = runtime.counters.batchItems;
    let events = 0;
    await assert.rejects(
      () =>
        analysis.explain(method, {
          signal: controller.signal,
          onProgress: () => {
            events++;
            controller.abort(reason);
          },
        }),
      (e) => e === reason,
    );
    assert.equal(events, 1, "no work after the abort");
    const perBatch = runtime.counters.batchItems - items;
    assert.ok(perBatch > 0 && perBatch <= 40, `${perBatch} items ran`);
    assert.equal(tf.memory().numTensors, before);
    const { heatmap } = await analysis.explain(method);
    assert.ok(heatmap.values.some((v) => v > 0));
  });
}

Deno.test("an already aborted signal runs no extra pass", async () => {
  const runtime = await tiny();
  const analysis = await analyzeImage({ runtime, registry }, tinyInput, {
    methods: ["scorecam"],
    layer: "b_out",
  });
  const items = runtime.counters.batchItems;
  await assert.rejects(
    () => analysis.explain("scorecam", { signal: AbortSignal.abort() }),
    (e) => (e as Error).name === "AbortError",
  );
  assert.equal(runtime.counters.batchItems, items);
});
