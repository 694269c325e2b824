import assert from "node:assert/strict";
import {
  type GraphQLBody,
  graphqlRequest,
  queueOf,
  send,
  withServer,
} from "./_helpers.ts";
import { tensorMemory } from "../../models/mod.ts";
import {
  EXPLAIN_QUERY,
  gateExplainer,
  tinyApp,
  tinyPng,
  until,
} from "./_tiny_app.ts";

const GATE = EXPLAIN_QUERY("gate");

Deno.test("a full queue answers OVERLOADED, 503 and Retry-After at once; queued requests still finish", async () => {
  const gate = gateExplainer();
  const { app } = await tinyApp([gate.explainer], {
    limits: { concurrency: 1, maxQueued: 2 },
  });
  const b = await tinyPng(1);
  await withServer(app, async (base) => {
    const post = () => fetch(graphqlRequest(GATE, { b }, { base }));
    const running = post();
    await until(() => queueOf(app).running === 1, "first request running");
    const queued = [post(), post()];
    await until(() => queueOf(app).queued === 2, "two requests queued");

    const refused = await post();
    // At once: answered while the gate still holds the three others.
    assert.deepEqual(
      [queueOf(app).running, queueOf(app).queued, gate.calls],
      [1, 2, 1],
    );
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    const body: GraphQLBody = await refused.json();
    assert.equal(body.errors?.[0].extensions?.code, "OVERLOADED");
    assert.match(body.errors![0].message, /2 requests are already waiting/);
    assert.equal(body.errors![0].extensions?.http, undefined);
    assert.equal(queueOf(app).rejected, 1);

    gate.open();
    for (const response of await Promise.all([running, ...queued])) {
      assert.equal(response.status, 200);
      const done: GraphQLBody = await response.json();
      assert.equal(done.errors, undefined, JSON.stringify(done.errors));
      assert.deepEqual(
        (done.data!.explain as { map: unknown }).map,
        { width: 2, height: 2 },
      );
    }
    assert.equal(gate.calls, 3);
  });
});

Deno.test("queued requests whose client disconnected are dropped, not computed", async () => {
  const gate = gateExplainer();
  const { app, runtime } = await tinyApp([gate.explainer], {
    limits: { concurrency: 1, maxQueued: 8 },
  });
  runtime.cache.clear();
  const forwardBefore = runtime.counters.forward;
  await withServer(app, async (base) => {
    const running = fetch(
      graphqlRequest(GATE, { b: await tinyPng(2) }, { base }),
    );
    await until(() => queueOf(app).running === 1, "first request running");
    const clients = [new AbortController(), new AbortController()];
    const images = [await tinyPng(10), await tinyPng(11)];
    const abandoned = clients.map((client, i) =>
      fetch(graphqlRequest(GATE, { b: images[i] }, { base }), {
        signal: client.signal,
      }).catch((error: Error) => error)
    );
    await until(() => queueOf(app).queued === 2, "two requests queued");
    for (const client of clients) client.abort();
    await until(() => queueOf(app).queued === 0, "abandoned requests dropped");
    assert.equal(queueOf(app).dropped, 2);

    for (const result of await Promise.all(abandoned)) {
      assert.equal((result as Error).name, "AbortError");
    }

    gate.open();
    const response = await running;
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await app.service.idle();
  });
  // Only the first request ran: one job, one explain call, one forward pass.
  assert.equal(queueOf(app).started, 1);
  assert.equal(gate.calls, 1);
  assert.equal(runtime.counters.forward - forwardBefore, 1);
});

Deno.test("the time limit abandons running work and frees its tensors", async () => {
  const gate = gateExplainer(); // never opened
  const { app, runtime } = await tinyApp([gate.explainer], {
    limits: { requestTimeoutMs: 300 },
  });
  runtime.cache.clear();
  const before = tensorMemory().tensors;
  // The gate never opens: an answer at all means the work was abandoned.
  const body = await send(
    app.fetch,
    graphqlRequest(GATE, { b: await tinyPng(3) }),
  );
  assert.equal(body.errors?.[0].extensions?.code, "TIMEOUT");
  assert.match(body.errors![0].message, /longer than 0\.3 s/);
  await app.service.idle();
  assert.equal(gate.calls, 1);
  runtime.cache.clear();
  assert.equal(tensorMemory().tensors, before);
  // The slot is free again.
  const ok = await send(
    app.fetch,
    graphqlRequest(EXPLAIN_QUERY("activation"), { b: await tinyPng(5) }),
  );
  assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
});

Deno.test("past the time limit: answered at once, queued work dropped, a step that cannot stop keeps its slot", async () => {
  const gate = gateExplainer("stubborn", { ignoreAbort: true });
  const { app } = await tinyApp([gate.explainer], {
    limits: { requestTimeoutMs: 300, concurrency: 1, maxQueued: 4 },
  });
  const query = EXPLAIN_QUERY("stubborn");
  const running = send(
    app.fetch,
    graphqlRequest(query, { b: await tinyPng(8) }),
  );
  await until(() => queueOf(app).running === 1, "first request running");
  const queued = send(
    app.fetch,
    graphqlRequest(query, { b: await tinyPng(9) }),
  );
  for (const body of await Promise.all([running, queued])) {
    assert.equal(body.errors?.[0].extensions?.code, "TIMEOUT");
  }
  // At once: both were answered while the step that cannot stop still runs
  // (the gate opens only below).
  // The queued request left the queue unstarted; the stuck step still
  // holds the only slot until it ends.
  assert.equal(queueOf(app).dropped, 1);
  assert.equal(queueOf(app).started, 1);
  assert.equal(queueOf(app).running, 1);
  gate.open();
  await app.service.idle();
  assert.equal(gate.calls, 1);
});

Deno.test("drain lets queued work finish, then refuses new work with SHUTTING_DOWN", async () => {
  const gate = gateExplainer();
  const { app } = await tinyApp([gate.explainer]);
  const b = await tinyPng(6);
  const first = send(app.fetch, graphqlRequest(GATE, { b }));
  await until(() => queueOf(app).running === 1, "first request running");
  const second = send(app.fetch, graphqlRequest(GATE, { b }));
  await until(() => queueOf(app).queued === 1, "second request queued");

  const drained = app.drain({ graceMs: 10_000 });
  assert.equal(app.stopping, true);
  const ready = await app.fetch(new Request("http://localhost/ready"));
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: "stopping" });
  const late = await app.fetch(graphqlRequest(GATE, { b }));
  assert.equal(late.status, 503);
  assert.equal(late.headers.get("retry-after"), "1");
  const lateBody: GraphQLBody = await late.json();
  assert.equal(lateBody.errors?.[0].extensions?.code, "SHUTTING_DOWN");

  gate.open();
  for (const body of await Promise.all([first, second])) {
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  }
  assert.deepEqual(await drained, { cancelled: false });
});

Deno.test("drain cancels what is left when the grace period ends", async () => {
  const gate = gateExplainer(); // never opened
  const { app } = await tinyApp([gate.explainer]);
  const b = await tinyPng(7);
  const first = send(app.fetch, graphqlRequest(GATE, { b }));
  await until(() => queueOf(app).running === 1, "first request running");
  const second = send(app.fetch, graphqlRequest(GATE, { b }));
  await until(() => queueOf(app).queued === 1, "second request queued");
  assert.deepEqual(await app.drain({ graceMs: 50 }), { cancelled: true });
  for (const body of await Promise.all([first, second])) {
    assert.equal(body.errors?.[0].extensions?.code, "SHUTTING_DOWN");
  }
  assert.equal(gate.calls, 1);
  assert.equal(queueOf(app).running + queueOf(app).queued, 0);
});
