/**
 * The server as a process on the real ResNet-50 (main.ts with the serve
 * task's permissions, its model in a worker process, the engine `auto`
 * picks): the reproductions of the adversarial run, over HTTP. No request
 * hangs, crashes or bloats it; probes answer while the model works; cheap
 * requests do not wait behind expensive ones; costly requests are refused
 * before they run; SIGTERM stops it within its grace period.
 */
import assert from "node:assert/strict";
import { encodeBase64 } from "../../lib/base64.ts";
import { encodePng } from "../../lib/render.ts";
import { fixtureBytes } from "../_shared.ts";
import { metric, type Server, startServer, waitFor } from "../_server.ts";

const SMALL = encodeBase64(
  await encodePng({
    width: 120,
    height: 80,
    data: new Uint8Array(120 * 80 * 3).map((_, i) => (i * 7919) % 256),
  }),
);
const TINY = encodeBase64(
  await encodePng({ width: 1, height: 1, data: new Uint8Array([200, 30, 90]) }),
);
const CHELSEA = encodeBase64(await fixtureBytes("chelsea.png"));

const EXPLAIN = `query($b: String!, $m: String!, $o: JSON) {
  explain(image: { base64: $b }, method: $m, options: $o) { label map { width height } }
}`;

function post(
  server: Server,
  body: unknown,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${server.base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
}

async function explain(
  server: Server,
  method: string,
  options: Record<string, unknown> | null,
  b = SMALL,
  signal?: AbortSignal,
) {
  const response = await post(server, {
    query: EXPLAIN,
    variables: { b, m: method, o: options },
  }, signal);
  return await response.json();
}

async function withServer(
  flags: string[],
  test: (server: Server) => Promise<void>,
): Promise<void> {
  const server = await startServer({}, flags);
  try {
    await test(server);
  } finally {
    server.child.kill("SIGKILL");
    await server.exited;
  }
}

/** Milliseconds one GET takes. */
async function timed(url: string): Promise<number> {
  const start = performance.now();
  const response = await fetch(url);
  await response.body?.cancel();
  assert.equal(response.status, 200);
  return performance.now() - start;
}

Deno.test("probes answer in milliseconds and a cheap request does not wait while 8 expensive ones run", async () => {
  await withServer([], async (server) => {
    const stop = new AbortController();
    const heavy = Array.from(
      { length: 8 },
      (_, i) =>
        explain(server, "occlusion", null, i % 2 ? SMALL : CHELSEA, stop.signal)
          .catch((error) => error),
    );
    await waitFor(async () =>
      await metric(server.base, "lumen_queue_running") === 1 &&
      await metric(server.base, "lumen_queue_length") === 7
    );
    const health: number[] = [];
    for (let i = 0; i < 20; i++) {
      health.push(await timed(`${server.base}/health`));
      health.push(await timed(`${server.base}/ready`));
    }
    health.sort((a, b) => a - b);
    // The server's own thread never runs the model: probes take what a
    // loopback request takes. (The worst case is left some room for a busy
    // two-core machine; the median is what the promise is about.)
    assert.ok(health[health.length >> 1] < 100, `median ${health[20]} ms`);
    assert.ok(health.at(-1)! < 500, `slowest ${health.at(-1)} ms`);
    // A prediction on a 1×1 image, behind eight occlusions.
    const start = performance.now();
    const response = await post(server, {
      query: `query($b: String!) { predict(image: { base64: $b }) { label } }`,
      variables: { b: TINY },
    });
    const body = await response.json();
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const ms = performance.now() - start;
    assert.ok(ms < 2000, `the cheap request took ${ms} ms`);
    stop.abort();
    await Promise.all(heavy);
    // The abandoned work stops: nothing left running or queued.
    await waitFor(async () =>
      await metric(server.base, "lumen_queue_running") === 0 &&
      await metric(server.base, "lumen_queue_length") === 0
    );
  });
});

Deno.test("big batches of gradients answer (a result or a clear error) and the next request works", async () => {
  await withServer([], async (server) => {
    for (
      const [method, options] of [
        ["smoothgrad", { smoothgrad: { samples: 16, batchSize: 16 } }],
        ["integratedgradients", {
          integratedgradients: { steps: 16, batchSize: 16 },
        }],
      ] as const
    ) {
      const body = await explain(server, method, options);
      if (body.errors) {
        assert.ok(body.errors[0].extensions?.code, JSON.stringify(body));
        assert.notEqual(
          body.errors[0].extensions.code,
          "INTERNAL_SERVER_ERROR",
        );
      } else {
        assert.equal(body.data.explain.map.width, 224, method);
      }
      const next = await explain(server, "gradcam", null);
      assert.equal(next.errors, undefined, JSON.stringify(next.errors));
      assert.equal(next.data.explain.map.width, 7);
    }
  });
});

Deno.test("a request over the cost limit is refused before it runs, saying the estimate and the limit", async () => {
  await withServer([], async (server) => {
    const started = await metric(server.base, "lumen_model_batch_items_total");
    const body = await explain(server, "occlusion", {
      occlusion: { size: 1, stride: 1 },
    });
    assert.equal(body.errors?.[0].extensions?.code, "BAD_USER_INPUT");
    assert.match(
      body.errors[0].message,
      /about 50177 model passes; the limit is 2500/,
    );
    assert.equal(body.errors[0].extensions.estimate, 50177);
    assert.equal(body.errors[0].extensions.limit, 2500);
    assert.equal(await metric(server.base, "lumen_queue_rejected_total"), 0);
    assert.equal(
      await metric(server.base, "lumen_model_batch_items_total"),
      started,
    );
  });
});

Deno.test("memory comes back: after 20 expensive requests the server is under its budget", async () => {
  const budget = 1536 * 1024 * 1024;
  await withServer(["--max-model-memory", String(budget)], async (server) => {
    for (let i = 0; i < 20; i++) {
      const body = await explain(server, "integratedgradients", {
        integratedgradients: { steps: 8, batchSize: 8 },
      }, i % 2 ? SMALL : CHELSEA);
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    }
    // A worker that grew past the budget is replaced once idle.
    await waitFor(async () =>
      await metric(server.base, "lumen_worker_resident_memory_bytes") > 0
    );
    const worker = await metric(
      server.base,
      "lumen_worker_resident_memory_bytes",
    );
    const main = await metric(server.base, "process_resident_memory_bytes");
    assert.ok(worker < budget, `worker ${worker} bytes`);
    assert.ok(main < 256 * 1024 * 1024, `server ${main} bytes`);
  });
});

Deno.test("SIGTERM mid-batch: the server exits within its grace period", async () => {
  const server = await startServer({}, ["--shutdown-grace-ms", "1000"]);
  const stuck = explain(server, "occlusion", { occlusion: { stride: 8 } })
    .catch((error) => error);
  await waitFor(async () =>
    await metric(server.base, "lumen_queue_running") === 1
  );
  const start = performance.now();
  server.child.kill("SIGTERM");
  assert.equal(await server.exited, 0);
  // Grace, then the worker stops at its next batch (or is killed).
  const ms = performance.now() - start;
  assert.ok(ms < 1000 + 5000, `exited after ${ms} ms`);
  const answer = await stuck;
  if (!(answer instanceof Error)) {
    assert.equal(answer.errors?.[0].extensions?.code, "SHUTTING_DOWN");
  }
});
