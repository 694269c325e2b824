import assert from "node:assert/strict";
import { createRegistry } from "../../explainers/registry.ts";
import { createApp } from "../../server/mod.ts";
import { DEFAULT_QUERY } from "../../schema/default_query.ts";
import { encodeBase64 } from "../../lib/base64.ts";
import { fixtureBytes, sharedResNet50Onnx } from "../_shared.ts";
import { loadingApp, pendingService, serviceOver } from "../_service.ts";
import {
  graphqlRequest,
  send,
  sharedApp,
  withServer,
} from "../schema/_helpers.ts";
import { brokenExplainer, sharedTiny, tinyPng } from "../schema/_tiny_app.ts";

Deno.test("/health answers at once; /ready waits for the model", async () => {
  const registry = createRegistry();
  const { service, resolve } = pendingService(registry);
  const app = createApp({ service, registry });
  const health = await app.fetch(new Request("http://localhost/health"));
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "ok");

  const loading = await app.fetch(new Request("http://localhost/ready"));
  assert.equal(loading.status, 503);
  assert.deepEqual(await loading.json(), { status: "loading" });

  resolve(await sharedResNet50Onnx());
  await service.ready();
  const ready = await app.fetch(new Request("http://localhost/ready"));
  assert.equal(ready.status, 200);
  const body = await ready.json();
  assert.equal(body.status, "ready");
  assert.equal(body.model, "resnet50");
  assert.equal(body.backend, "onnxruntime");
});

Deno.test("/ready reports a failed load", async () => {
  const registry = createRegistry();
  const { service, reject } = pendingService(registry);
  const app = createApp({ service, registry });
  reject(new Error("No TF.js backend could start"));
  await service.ready().catch(() => {});
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
  assert.equal(data.model.backend, "onnxruntime");
  assert.ok(data.explainers.length >= 2);
  assert.equal(data.explain.label, "Egyptian_cat");
  assert.equal(data.explain.map.width, 7);
  assert.ok(data.explain.overlay.startsWith("data:image/png;base64,"));
});

Deno.test("GraphiQL can be turned off", async () => {
  const registry = createRegistry();
  const app = createApp({
    service: pendingService(registry).service,
    registry,
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

Deno.test("CSRF: multipart, form, text and GET requests need a CSRF header; JSON does not", async () => {
  const registry = createRegistry();
  const app = createApp({
    service: pendingService(registry).service,
    registry,
  });
  const query = "{ explainers { name } }";
  const form = new FormData();
  form.set("operations", JSON.stringify({ query }));
  form.set("map", "{}");
  const requests: [string, () => Request][] = [
    ["multipart", () =>
      new Request("http://localhost/graphql", {
        method: "POST",
        body: form,
      })],
    ["form", () =>
      new Request("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query }),
      })],
    ["text/plain", () =>
      new Request("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ query }),
      })],
    ["GET", () =>
      new Request(
        `http://localhost/graphql?query=${encodeURIComponent(query)}`,
        { headers: { accept: "application/json" } },
      )],
  ];
  for (const [name, make] of requests) {
    const refused = await app.fetch(make());
    assert.equal(refused.status, 403, name);
    const body = await refused.json();
    assert.match(body.errors[0].message, /CSRF/, name);
    // The error says what to send, and carries a code.
    assert.match(body.errors[0].message, /x-graphql-yoga-csrf/, name);
    assert.equal(body.errors[0].extensions.code, "CSRF_HEADER_REQUIRED", name);
    for (const header of ["x-graphql-yoga-csrf", "apollo-require-preflight"]) {
      const request = make();
      request.headers.set(header, "1");
      const allowed = await app.fetch(request);
      if (name === "text/plain") {
        // Past CSRF; yoga itself does not take text/plain bodies.
        assert.equal(allowed.status, 415);
        await allowed.body?.cancel();
        continue;
      }
      assert.equal(allowed.status, 200, `${name} with ${header}`);
      assert.ok((await allowed.json()).data.explainers.length > 0);
    }
  }
  const json = await send(app.fetch, graphqlRequest(query));
  assert.equal(json.errors, undefined);
});

Deno.test("production: introspection and GraphiQL off unless re-enabled; errors without details", async () => {
  const introspection = "{ __schema { queryType { name } } }";
  const html = (app: { fetch(r: Request): Promise<Response> }) =>
    app.fetch(
      new Request("http://localhost/graphql", {
        headers: { accept: "text/html" },
      }),
    ).then(async (r) => {
      await r.body?.cancel();
      return /text\/html/.test(r.headers.get("content-type") ?? "");
    });
  const registry = createRegistry();
  const base = { service: pendingService(registry).service, registry };

  const production = createApp({ ...base, production: true });
  const refused = await send(production.fetch, graphqlRequest(introspection));
  assert.match(
    refused.errors?.[0].message ?? "",
    /introspection has been disabled/,
  );
  assert.equal(await html(production), false);
  // Ordinary queries still work.
  const ok = await send(
    production.fetch,
    graphqlRequest("{ explainers { name } }"),
  );
  assert.equal(ok.errors, undefined);

  const reopened = createApp({
    ...base,
    production: true,
    introspection: true,
    graphiql: true,
  });
  const schema = await send(reopened.fetch, graphqlRequest(introspection));
  assert.deepEqual(schema.data, { __schema: { queryType: { name: "Query" } } });
  assert.equal(await html(reopened), true);

  const development = createApp(base);
  assert.equal(await html(development), true);
  assert.equal(
    (await send(development.fetch, graphqlRequest(introspection))).errors,
    undefined,
  );
});

Deno.test("unexpected errors: details for developers, none in production", async () => {
  const broken = brokenExplainer;
  const runtime = await sharedTiny();
  const b = await tinyPng(1);
  const query =
    `query($b: String!) { explain(image: { base64: $b }, method: "broken") { label map { width } } }`;
  for (const production of [false, true]) {
    const registry = createRegistry([broken]);
    const app = createApp({
      service: await serviceOver(runtime, registry),
      registry,
      production,
    });
    const body = await send(app.fetch, graphqlRequest(query, { b }));
    const error = body.errors?.[0];
    assert.equal(error?.extensions?.code, "INTERNAL_SERVER_ERROR");
    assert.equal(error?.message, "Unexpected error.");
    const detail = error?.extensions?.originalError as
      | { message: string; stack?: string }
      | undefined;
    if (production) assert.equal(detail, undefined);
    else assert.equal(detail?.message, "secret internal detail");
    // Never a stack trace with the server's file paths.
    assert.doesNotMatch(JSON.stringify(body), /file:\/\/|\.ts:\d+/);
  }
});

Deno.test("@defer to a client that accepts only JSON: a NOT_ACCEPTABLE error saying which Accept to send, before any work", async () => {
  const app = await sharedApp();
  const started = app.service.stats().queue.started;
  const query = `query($b: String!) {
    explain(image: { base64: $b }) { label ... @defer { overlay } }
  }`;
  const b = encodeBase64(await fixtureBytes("chelsea.png"));
  const refused = await app.fetch(
    graphqlRequest(query, { b }, { accept: "application/json" }),
  );
  assert.equal(refused.status, 406);
  const body = await refused.json();
  assert.equal(body.errors[0].extensions.code, "NOT_ACCEPTABLE");
  assert.match(body.errors[0].message, /Accept: multipart\/mixed/);
  assert.equal(app.service.stats().queue.started, started);
  // Without @defer, JSON is fine; with the right Accept, @defer is.
  const plain = await app.fetch(graphqlRequest(
    `query($b: String!) { explain(image: { base64: $b }) { label } }`,
    { b },
    { accept: "application/json" },
  ));
  assert.equal(plain.status, 200);
  await plain.body?.cancel();
  const parts = await app.fetch(
    graphqlRequest(query, { b }, { accept: "multipart/mixed" }),
  );
  assert.equal(parts.status, 200);
  assert.match(parts.headers.get("content-type") ?? "", /multipart\/mixed/);
  await parts.text();
});

Deno.test("CORS is off by default: a preflight from another origin gets no grant", async () => {
  const preflight = (
    app: { fetch(r: Request): Promise<Response> },
    origin: string,
  ) =>
    app.fetch(
      new Request("http://localhost/graphql", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "x-graphql-yoga-csrf,content-type",
        },
      }),
    );
  const closed = createApp(loadingApp());
  const evil = await preflight(closed, "http://evil.example");
  await evil.body?.cancel();
  assert.equal(evil.headers.get("access-control-allow-origin"), null);
  assert.equal(evil.headers.get("access-control-allow-credentials"), null);
  assert.equal(evil.headers.get("access-control-allow-headers"), null);
  // Allow-listed origins only, never with credentials; others are not echoed.
  const open = createApp({
    ...loadingApp(),
    corsOrigins: ["https://app.example", "https://admin.example"],
  });
  const allowed = await preflight(open, "https://app.example");
  await allowed.body?.cancel();
  assert.equal(
    allowed.headers.get("access-control-allow-origin"),
    "https://app.example",
  );
  assert.equal(allowed.headers.get("access-control-allow-credentials"), null);
  const other = await preflight(open, "http://evil.example");
  await other.body?.cancel();
  assert.notEqual(
    other.headers.get("access-control-allow-origin"),
    "http://evil.example",
  );
  assert.equal(other.headers.get("access-control-allow-credentials"), null);
});
