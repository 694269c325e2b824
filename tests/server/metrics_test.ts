import assert from "node:assert/strict";
import {
  type GraphQLBody,
  graphqlRequest,
  queueOf,
  send,
} from "../schema/_helpers.ts";
import { tensorMemory } from "../../models/mod.ts";
import { jsonLogger } from "../../lib/log.ts";
import {
  brokenExplainer,
  EXPLAIN_QUERY,
  gateExplainer,
  tinyApp,
  tinyPng,
  until,
} from "../schema/_tiny_app.ts";

/** The value of the one sample of `metrics` matching `series` exactly. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

async function scrape(fetch: (r: Request) => Promise<Response>) {
  const response = await fetch(new Request("http://localhost/metrics"));
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  return await response.text();
}

Deno.test("/metrics: requests, errors by code, latency per method, queue, tensors, backend, pass cache", async () => {
  const gate = gateExplainer();
  const { app, runtime } = await tinyApp([gate.explainer], {
    limits: { concurrency: 1, maxQueued: 0 },
  });
  const b = await tinyPng(42);
  // Two explains on one image: the second hits the pass cache.
  for (const method of ["activation", "gradcam"]) {
    const body = await send(
      app.fetch,
      graphqlRequest(EXPLAIN_QUERY(method), { b }),
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  }
  const bad = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String!) { explain(image: { base64: $b }, render: { alpha: 2 }) { label } }`,
      { b },
    ),
  );
  assert.equal(bad.errors?.[0].extensions?.code, "BAD_USER_INPUT");
  // One request holds the only slot, with no room to wait: OVERLOADED.
  const held = send(app.fetch, graphqlRequest(EXPLAIN_QUERY("gate"), { b }));
  await until(() => queueOf(app).running === 1, "held request running");
  const refused = await send(
    app.fetch,
    graphqlRequest(EXPLAIN_QUERY("gate"), { b }),
  );
  assert.equal(refused.errors?.[0].extensions?.code, "OVERLOADED");

  const during = await scrape(app.fetch);
  assert.equal(sample(during, "lumen_queue_running"), 1);
  assert.equal(sample(during, "lumen_queue_length"), 0);
  assert.equal(sample(during, "lumen_queue_capacity"), 0);
  assert.equal(sample(during, "lumen_queue_concurrency"), 1);
  assert.equal(sample(during, "lumen_queue_rejected_total"), 1);
  assert.equal(sample(during, "lumen_http_requests_in_flight"), 2);
  gate.open();
  assert.equal((await held).errors, undefined);

  const text = await scrape(app.fetch);
  assert.equal(
    sample(text, 'lumen_http_requests_total{route="graphql",status="200"}'),
    4,
  );
  assert.equal(
    sample(text, 'lumen_http_requests_total{route="graphql",status="503"}'),
    1,
  );
  assert.equal(
    sample(text, 'lumen_graphql_errors_total{code="BAD_USER_INPUT"}'),
    1,
  );
  assert.equal(
    sample(text, 'lumen_graphql_errors_total{code="OVERLOADED"}'),
    1,
  );
  for (const method of ["activation", "gradcam", "gate"]) {
    assert.equal(
      sample(text, `lumen_explain_duration_seconds_count{method="${method}"}`),
      1,
    );
  }
  assert.equal(
    sample(text, 'lumen_jobs_total{field="explain",outcome="ok"}'),
    3,
  );
  assert.equal(
    sample(text, 'lumen_jobs_total{field="explain",outcome="overloaded"}'),
    1,
  );
  assert.equal(sample(text, "lumen_queue_wait_seconds_count"), 3);
  assert.ok(
    sample(
      text,
      'lumen_http_request_duration_seconds_bucket{route="graphql",le="+Inf"}',
    ) ===
      5,
  );
  assert.equal(sample(text, "lumen_tensors"), tensorMemory().tensors);
  assert.ok(sample(text, "lumen_tensor_bytes") > 0);
  assert.equal(
    sample(
      text,
      `lumen_backend_info{backend="wasm",adapter="",threads="${runtime.backend.threads}"}`,
    ),
    1,
  );
  assert.equal(sample(text, "lumen_model_ready"), 1);
  assert.equal(
    sample(text, "lumen_pass_cache_hits_total"),
    runtime.cache.stats.hits,
  );
  assert.equal(
    sample(text, "lumen_pass_cache_misses_total"),
    runtime.cache.stats.misses,
  );
  assert.ok(runtime.cache.stats.hits >= 1);
  assert.equal(
    sample(text, "lumen_model_batches_total"),
    runtime.counters.batches,
  );
  assert.ok(sample(text, "process_resident_memory_bytes") > 1e6);
  // This process's CPU time, read when scraped: it grows with work.
  const cpu = sample(text, "process_cpu_seconds_total");
  assert.ok(cpu > 0);
  const busyUntil = performance.now() + 30;
  while (performance.now() < busyUntil) { /* work */ }
  const later = await scrape(app.fetch);
  assert.ok(sample(later, "process_cpu_seconds_total") >= cpu + 0.02);
  // In-process model work has no worker processes.
  assert.equal(sample(text, "lumen_worker_cpu_seconds_total"), 0);
});

Deno.test("request ids: echoed or generated, in every log line of the request", async () => {
  const broken = brokenExplainer;
  const lines: Record<string, unknown>[] = [];
  const log = jsonLogger({
    level: "debug",
    write: (line) => lines.push(JSON.parse(line)),
  });
  const { app } = await tinyApp([broken], { log });
  const b = await tinyPng(43);

  const echoed = await app.fetch(
    new Request("http://localhost/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-request-id": "client-id-1",
      },
      body: JSON.stringify({
        query: EXPLAIN_QUERY("broken"),
        variables: { b },
      }),
    }),
  );
  assert.equal(echoed.headers.get("x-request-id"), "client-id-1");
  const body: GraphQLBody = await echoed.json();
  assert.equal(body.errors?.[0].extensions?.code, "INTERNAL_SERVER_ERROR");
  const mine = lines.filter((l) => l.requestId === "client-id-1");
  const masked = mine.find((l) => l.level === "error");
  assert.ok(masked, JSON.stringify(lines));
  assert.match(String(masked.msg), /secret internal detail/);
  const summary = mine.find((l) => l.msg === "request");
  assert.deepEqual(
    { ...summary, ms: 0 },
    {
      level: "info",
      msg: "request",
      requestId: "client-id-1",
      method: "POST",
      path: "/graphql",
      status: 200,
      ms: 0,
      codes: ["INTERNAL_SERVER_ERROR"],
    },
  );

  const health = await app.fetch(new Request("http://localhost/health"));
  const generated = health.headers.get("x-request-id");
  assert.match(generated ?? "", /^[0-9a-f-]{36}$/);
  assert.ok(
    lines.some((l) =>
      l.requestId === generated && l.level === "debug" && l.path === "/health"
    ),
  );
});
