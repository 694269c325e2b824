import assert from "node:assert/strict";
import { tensorMemory } from "../../models/mod.ts";
import {
  type GraphQLBody,
  graphqlRequest,
  withServer,
} from "../schema/_helpers.ts";
import { tinyApp, tinyPng } from "../schema/_tiny_app.ts";

const REQUESTS = 200;
const IN_FLIGHT = 8;

const QUERY = (method: string) =>
  `query($b: String!) {
    explain(image: { base64: $b }, method: "${method}") {
      label probability map { width height values } overlay
    }
  }`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

Deno.test("load: 200 explain requests, 8 in flight over loopback HTTP; no leak", async () => {
  const { app, runtime } = await tinyApp();
  const images = await Promise.all(
    Array.from({ length: REQUESTS }, (_, i) => tinyPng(1000 + i)),
  );
  await withServer(app, async (base) => {
    const post = (i: number) =>
      fetch(graphqlRequest(
        QUERY(i % 2 === 0 ? "gradcam" : "activation"),
        { b: images[i] },
        { base },
      ));
    // Warm up (JIT, first renders), then measure from a clean cache.
    for (let i = 0; i < 4; i++) await (await post(i)).body?.cancel();
    runtime.cache.clear();
    const tensorsBefore = tensorMemory().tensors;
    const rssBefore = Deno.memoryUsage().rss;

    const latencies: number[] = [];
    const outcomes = { ok: 0, overloaded: 0 };
    let next = 0;
    const client = async () => {
      while (next < REQUESTS) {
        const i = next++;
        const start = performance.now();
        const response = await post(i);
        const body: GraphQLBody = await response.json();
        latencies.push(performance.now() - start);
        const code = body.errors?.[0].extensions?.code;
        if (code === "OVERLOADED") {
          assert.equal(response.status, 503);
          outcomes.overloaded++;
          continue;
        }
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
        const explain = body.data!.explain as {
          map: { values: number[] };
          overlay: string;
        };
        assert.ok(explain.overlay.startsWith("data:image/png;base64,"));
        assert.ok(explain.map.values.every((v) => v >= 0 && v <= 1));
        outcomes.ok++;
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, client));
    const seconds = (performance.now() - start) / 1000;
    await app.service.idle();

    runtime.cache.clear();
    const tensorsAfter = tensorMemory().tensors;
    const rssGrowth = (Deno.memoryUsage().rss - rssBefore) / 2 ** 20;
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 0.5);
    const p95 = percentile(latencies, 0.95);
    console.log(
      `load: ${REQUESTS} requests, ${IN_FLIGHT} in flight, ${
        seconds.toFixed(1)
      } s: ${outcomes.ok} ok, ${outcomes.overloaded} OVERLOADED; p50 ${
        p50.toFixed(1)
      } ms, p95 ${
        p95.toFixed(1)
      } ms; tensors ${tensorsBefore} -> ${tensorsAfter}; RSS ${
        rssGrowth >= 0 ? "+" : ""
      }${rssGrowth.toFixed(1)} MB`,
    );
    assert.equal(outcomes.ok + outcomes.overloaded, REQUESTS);
    assert.equal(latencies.length, REQUESTS);
    assert.equal(tensorsAfter, tensorsBefore);
    assert.ok(rssGrowth < 100, `RSS grew by ${rssGrowth.toFixed(1)} MB`);
  });
});
