import assert from "node:assert/strict";
import type { Explainer } from "../../explainers/types.ts";
import { type GraphQLBody, graphqlRequest } from "./_helpers.ts";
import { tinyApp, tinyPng } from "./_tiny_app.ts";

/** A method that counts how often its map is computed. */
function countingExplainer(): { explainer: Explainer; readonly calls: number } {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    explainer: {
      name: "counting",
      description: "A flat map; counts its calls",
      needsGradients: false,
      parseParams: () => ({}),
      explain() {
        calls++;
        return { width: 2, height: 2, values: new Float32Array([0, 1, 2, 3]) };
      },
    },
  };
}

const explain = (selection: string) =>
  `query($b: String!${
    selection.includes("$m") ? ", $m: Boolean = false" : ""
  }) {
    explain(image: { base64: $b }, method: "counting") { ${selection} }
  }`;

Deno.test("a method's map is not computed when no selected field needs it", async () => {
  const counting = countingExplainer();
  const { app, runtime } = await tinyApp([counting.explainer]);
  const b = await tinyPng(5);
  const ask = async (
    query: string,
    variables: Record<string, unknown> = {},
  ) => {
    const response = await app.fetch(
      graphqlRequest(query, { b, ...variables }),
    );
    const body: GraphQLBody = await response.json();
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    // The answer can leave before the service call ends: wait for it, so
    // that a map computed after the answer is counted too.
    await app.service.idle();
    return body.data!;
  };
  const forwards = runtime.counters.forward;
  // The shared pass runs (label, probability, predictions need it) ...
  const data = await ask(
    explain("method label probability classIndex predictions { label }"),
  );
  assert.equal((data.explain as { method: string }).method, "counting");
  assert.equal(runtime.counters.forward, forwards + 1);
  // ... but not the method: nothing selected needs its map.
  assert.equal(counting.calls, 0);
  // Fields left out by @include are not selected either.
  await ask(explain("label map @include(if: $m) { width }"));
  await ask(explain("label overlay @skip(if: true)"));
  assert.equal(counting.calls, 0);
  // Each field that needs the map computes it, once per request.
  for (
    const field of [
      "map { width }",
      "overlay",
      "heatmap",
      "timings { explain }",
      "details { name }",
    ]
  ) {
    const before: number = counting.calls;
    await ask(explain(`label ${field}`));
    assert.equal(counting.calls, before + 1, field);
  }
  await ask(explain("label map @include(if: $m) { width }"), { m: true });
  assert.equal(counting.calls, 6);
});

Deno.test("explainMany computes no map when only labels are selected", async () => {
  const counting = countingExplainer();
  const { app } = await tinyApp([counting.explainer]);
  const response = await app.fetch(graphqlRequest(
    `query($b: String!) {
      explainMany(image: { base64: $b }, methods: ["counting", "gradcam"]) {
        method label
      }
    }`,
    { b: await tinyPng(6) },
  ));
  const body: GraphQLBody = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  await app.service.idle();
  assert.equal((body.data!.explainMany as unknown[]).length, 2);
  assert.equal(counting.calls, 0);
});
