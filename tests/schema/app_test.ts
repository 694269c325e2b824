import assert from "node:assert/strict";
import { createRegistry } from "../../explainers/registry.ts";
import type { ModelRuntime } from "../../models/runtime.ts";
import { createApp } from "../../schema/app.ts";
import { DEFAULT_QUERY } from "../../schema/default_query.ts";
import { sharedResNet50 } from "../_shared.ts";
import { graphqlRequest, send, sharedApp, withServer } from "./_helpers.ts";

Deno.test("/health answers at once; /ready waits for the model", async () => {
  let runtime: ModelRuntime | null = null;
  const app = createApp({ runtime: () => runtime, registry: createRegistry() });
  const health = await app.fetch(new Request("http://localhost/health"));
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "ok");

  const loading = await app.fetch(new Request("http://localhost/ready"));
  assert.equal(loading.status, 503);
  assert.deepEqual(await loading.json(), { status: "loading" });

  runtime = await sharedResNet50();
  const ready = await app.fetch(new Request("http://localhost/ready"));
  assert.equal(ready.status, 200);
  const body = await ready.json();
  assert.equal(body.status, "ready");
  assert.equal(body.backend, "wasm");
});

Deno.test("/ready reports a failed load", async () => {
  const app = createApp({
    runtime: () => null,
    loadError: () => "No TF.js backend could start",
    registry: createRegistry(),
  });
  const ready = await app.fetch(new Request("http://localhost/ready"));
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), {
    status: "failed",
    error: "No TF.js backend could start",
  });
});

Deno.test("GraphiQL at /graphql for browsers, over HTTP", async () => {
  await withServer(await sharedApp(), async (base) => {
    const response = await fetch(`${base}/graphql`, {
      headers: { accept: "text/html" },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/html/);
    const html = await response.text();
    assert.match(html, /graphiql/i);
    assert.ok(html.includes("query Explain"), "the default query is embedded");
  });
});

Deno.test("GraphiQL's default query runs as is and explains a cat", async () => {
  const app = await sharedApp();
  const body = await send(app.fetch, graphqlRequest(DEFAULT_QUERY));
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const data = body.data as {
    model: { backend: string };
    explainers: { name: string }[];
    explain: { label: string; map: { width: number }; overlay: string };
  };
  assert.equal(data.model.backend, "wasm");
  assert.ok(data.explainers.length >= 2);
  assert.equal(data.explain.label, "Egyptian_cat");
  assert.equal(data.explain.map.width, 7);
  assert.ok(data.explain.overlay.startsWith("data:image/png;base64,"));
});

Deno.test("GraphiQL can be turned off", async () => {
  const app = createApp({
    runtime: () => null,
    registry: createRegistry(),
    graphiql: false,
  });
  const response = await app.fetch(
    new Request("http://localhost/graphql", {
      headers: { accept: "text/html" },
    }),
  );
  await response.body?.cancel();
  assert.doesNotMatch(response.headers.get("content-type") ?? "", /text\/html/);
});
