/**
 * Explanation jobs through the API, embedded (queue, store and runner in
 * the app's process, on the tiny network): a job's progress and results
 * over `jobUpdates` (SSE), equal to `explainMany`'s; arguments checked
 * before anything is queued; cancel, expiry, a full queue; per-method
 * failures; metrics.
 */
import assert from "node:assert/strict";
import { ablationCamExplainer } from "../../explainers/ablation_cam.ts";
import { activationExplainer } from "../../explainers/activation.ts";
import { gradCamExplainer } from "../../explainers/grad_cam.ts";
import { occlusionExplainer } from "../../explainers/occlusion.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { scoreCamExplainer } from "../../explainers/score_cam.ts";
import type { Explainer } from "../../explainers/types.ts";
import {
  DEFAULT_JOB_SETTINGS,
  type JobSettings,
  openExplanationJobs,
} from "../../jobs/explanation/mod.ts";
import type { Limits } from "../../schema/mod.ts";
import { type App, createApp } from "../../server/mod.ts";
import { serviceOver } from "../_service.ts";
import {
  type GraphQLBody,
  graphqlRequest,
  parseSse,
  queueOf,
  withServer,
} from "./_helpers.ts";
import {
  brokenExplainer,
  gateExplainer,
  sharedTiny,
  tinyPng,
  until,
} from "./_tiny_app.ts";

interface JobApp extends AsyncDisposable {
  app: App;
}

/** An app on the tiny network with embedded jobs run by its own service. */
async function jobApp(
  extra: Explainer[] = [],
  options: { settings?: Partial<JobSettings>; limits?: Partial<Limits> } = {},
): Promise<JobApp> {
  const runtime = await sharedTiny();
  const registry = createRegistry([
    activationExplainer(),
    gradCamExplainer(),
    ...extra,
  ]);
  const limits = options.limits ?? {};
  const service = await serviceOver(runtime, registry, { limits });
  const jobs = openExplanationJobs(
    { ...DEFAULT_JOB_SETTINGS, ...options.settings },
    { runHere: { service, registry } },
  );
  const app = createApp({ service, registry, jobs, limits });
  return {
    app,
    async [Symbol.asyncDispose]() {
      // The service is not closed: it would dispose the shared network.
      await jobs.close({ graceMs: 0 });
    },
  };
}

const OPTIONS = {
  scorecam: { topChannels: 8, batchSize: 2 },
  occlusion: { batchSize: 8 },
  ablationcam: { topChannels: 8, batchSize: 2 },
};

const START = `mutation($b: String!, $methods: [String!]!, $options: JSON,
    $layer: String = "b_out") {
  startExplanation(image: { base64: $b }, methods: $methods, layer: $layer,
    options: $options) {
    id state progress createdAt startedAt finishedAt methods attempts
  }
}`;

const JOB_FIELDS = `id state progress error errorCode methods
  results {
    method layer classIndex label probability
    predictions { classIndex label probability }
    map { width height values rawMin rawMax }
    overlay heatmap
    timings { decode forward explain render }
    details { name value }
  }
  methodErrors { method code message }`;

const UPDATES =
  `subscription($id: ID!) { jobUpdates(id: $id) { ${JOB_FIELDS} } }`;
const GET = `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
const CANCEL =
  `mutation($id: ID!) { cancelJob(id: $id) { id state errorCode } }`;

const EXPLAIN_MANY = `query($b: String!, $methods: [String!]!, $options: JSON) {
  explainMany(image: { base64: $b }, methods: $methods, layer: "b_out",
    options: $options) {
    method layer classIndex label probability
    predictions { classIndex label probability }
    map { width height values rawMin rawMax }
    overlay heatmap
    details { name value }
  }
}`;

interface JobData {
  id: string;
  state: string;
  progress: number;
  error: string | null;
  errorCode: string | null;
  results: Record<string, unknown>[] | null;
  methodErrors: { method: string; code: string; message: string }[];
}

async function post(
  app: App,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ status: number; headers: Headers; body: GraphQLBody }> {
  const response = await app.fetch(graphqlRequest(query, variables));
  return {
    status: response.status,
    headers: response.headers,
    body: await response.json(),
  };
}

async function start(
  app: App,
  variables: Record<string, unknown>,
): Promise<JobData> {
  const { body } = await post(app, START, variables);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!.startExplanation as JobData;
}

/** Every `jobUpdates` event until the stream completes. */
async function updates(
  fetch: (request: Request) => Promise<Response>,
  id: string,
  base?: string,
): Promise<JobData[]> {
  const response = await fetch(
    graphqlRequest(UPDATES, { id }, {
      accept: "text/event-stream",
      ...(base ? { base } : {}),
    }),
  );
  assert.equal(response.status, 200);
  const events = parseSse(await response.text());
  assert.equal(events.at(-1)?.event, "complete", JSON.stringify(events));
  return events.slice(0, -1).map((event) => {
    const body = JSON.parse(event.data) as GraphQLBody;
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.jobUpdates as JobData;
  });
}

function codeOf(body: GraphQLBody): unknown {
  return body.errors?.[0]?.extensions?.code;
}

Deno.test("a job over HTTP: jobUpdates (SSE) shows rising progress over all its methods, then results equal to explainMany's", async () => {
  await using fixture = await jobApp([
    scoreCamExplainer(),
    occlusionExplainer(),
  ]);
  const { app } = fixture;
  const b = await tinyPng(40);
  const methods = ["gradcam", "scorecam", "occlusion"];
  const options = { scorecam: OPTIONS.scorecam, occlusion: OPTIONS.occlusion };
  await withServer(app, async (base) => {
    const job = await start(app, { b, methods, options });
    assert.equal(job.state, "queued");
    assert.equal(job.progress, 0);
    assert.deepEqual(
      (job as unknown as { methods: string[] }).methods,
      methods,
    );
    assert.match(job.id, /^[A-Za-z0-9_-]{22}$/);
    const events = await updates(fetch, job.id, base);
    const fractions = events.map((e) => e.progress);
    for (let i = 1; i < events.length; i++) {
      assert.ok(fractions[i] >= fractions[i - 1], `${fractions}`);
    }
    // Progress in between: the shared pass, then each method's batches.
    assert.ok(
      fractions.some((f) => f > 0 && f < 1),
      `no progress between 0 and 1: ${fractions}`,
    );
    const last = events.at(-1)!;
    assert.equal(last.state, "succeeded");
    assert.equal(last.progress, 1);
    assert.deepEqual(last.methodErrors, []);
    for (const e of events.slice(0, -1)) assert.equal(e.results, null);

    const many = await post(app, EXPLAIN_MANY, { b, methods, options });
    assert.equal(many.body.errors, undefined);
    const expected = many.body.data!.explainMany as Record<string, unknown>[];
    assert.equal(last.results!.length, 3);
    for (const [i, result] of last.results!.entries()) {
      const { timings, ...rest } = result;
      assert.deepEqual(rest, expected[i], `${methods[i]} differs`);
      assert.ok((timings as { explain: number }).explain >= 0);
    }
  });
});

Deno.test("job(id) polls the same job; results are kept until the TTL, then JOB_NOT_FOUND", async () => {
  await using fixture = await jobApp([], { settings: { ttlMs: 400 } });
  const { app } = fixture;
  const { id } = await start(app, {
    b: await tinyPng(41),
    methods: ["gradcam"],
  });
  let job: JobData;
  const deadline = Date.now() + 30_000;
  do {
    const { body } = await post(app, GET, { id });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    job = body.data!.job as JobData;
    await new Promise((resolve) => setTimeout(resolve, 10));
  } while (job.state !== "succeeded" && Date.now() < deadline);
  assert.equal(job.state, "succeeded");
  assert.equal(job.results!.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const query of [GET, CANCEL]) {
    const expired = await post(app, query, { id });
    assert.equal(codeOf(expired.body), "JOB_NOT_FOUND");
  }
  const unknown = await post(app, GET, { id: "nope" });
  assert.equal(codeOf(unknown.body), "JOB_NOT_FOUND");
  const stream = await app.fetch(
    graphqlRequest(UPDATES, { id: "AAAAAAAAAAAAAAAAAAAAAA" }, {
      accept: "text/event-stream",
    }),
  );
  const events = parseSse(await stream.text());
  assert.equal(
    codeOf(JSON.parse(events[0].data) as GraphQLBody),
    "JOB_NOT_FOUND",
  );
});

Deno.test("startExplanation checks every argument, the cost and the image before queueing", async () => {
  await using fixture = await jobApp([occlusionExplainer()], {
    settings: { maxPasses: 50 },
  });
  const { app } = fixture;
  const b = await tinyPng(42);
  const notPng = btoa("GIF89a, not a PNG at all");
  for (
    const [variables, code] of [
      [{ methods: ["nope"] }, "UNKNOWN_METHOD"],
      [{ methods: [] }, "BAD_USER_INPUT"],
      [{ methods: ["gradcam"], layer: "nope" }, "UNKNOWN_LAYER"],
      [{ methods: ["gradcam"], options: { occlusion: {} } }, "BAD_USER_INPUT"],
      // Over --max-job-passes (50): occlusion with stride 1.
      [
        { methods: ["occlusion"], options: { occlusion: { stride: 1 } } },
        "BAD_USER_INPUT",
      ],
      [{ methods: ["gradcam"], b: notPng }, "INVALID_IMAGE"],
    ] as const
  ) {
    const { body } = await post(app, START, { b, ...variables });
    assert.equal(codeOf(body), code, JSON.stringify(variables));
  }
  const metrics = await (await app.fetch(
    new Request("http://localhost/metrics"),
  )).text();
  assert.match(metrics, /^lumen_job_queue_length 0$/m);
  assert.match(metrics, /^lumen_job_finished_total\{state="failed"\} 0$/m);
  assert.equal(queueOf(app).started, 0);
});

Deno.test("cancelJob: a running job stops (its model work too), a queued one is cancelled at once; a full queue is OVERLOADED with Retry-After", async () => {
  const gate = gateExplainer();
  await using fixture = await jobApp([gate.explainer], {
    settings: { maxQueued: 1 },
  });
  const { app } = fixture;
  const b = await tinyPng(43);
  const running = await start(app, { b, methods: ["gate"] });
  await until(() => gate.calls === 1, "the gate job running");
  const queued = await start(app, { b, methods: ["gradcam"] });
  const refused = await post(app, START, { b, methods: ["gradcam"] });
  assert.equal(codeOf(refused.body), "OVERLOADED");
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "10");

  const cancelledQueued = await post(app, CANCEL, { id: queued.id });
  assert.deepEqual(cancelledQueued.body.data!.cancelJob, {
    id: queued.id,
    state: "cancelled",
    errorCode: "CANCELLED",
  });
  const cancelledRunning = await post(app, CANCEL, { id: running.id });
  assert.equal(
    (cancelledRunning.body.data!.cancelJob as JobData).state,
    "cancelled",
  );
  // The gate honours its signal: the model work stopped without opening it.
  await until(() => queueOf(app).running === 0, "model work stopped");
  assert.equal(gate.calls, 1);
  const metrics = await (await app.fetch(
    new Request("http://localhost/metrics"),
  )).text();
  assert.match(metrics, /^lumen_job_finished_total\{state="cancelled"\} 2$/m);
  assert.match(metrics, /^lumen_job_workers 1$/m);
  assert.match(metrics, /^lumen_job_store_up 1$/m);
});

Deno.test("a method failing alone is a method error of a succeeded job; every method failing fails the job", async () => {
  await using fixture = await jobApp([brokenExplainer]);
  const { app } = fixture;
  const b = await tinyPng(44);
  const partial = await start(app, { b, methods: ["gradcam", "broken"] });
  const [last] = (await updates(app.fetch, partial.id)).slice(-1);
  assert.equal(last.state, "succeeded");
  assert.deepEqual(last.results!.map((r) => r.method), ["gradcam"]);
  assert.equal(last.methodErrors.length, 1);
  assert.equal(last.methodErrors[0].method, "broken");
  assert.equal(last.methodErrors[0].code, "INTERNAL");
  assert.doesNotMatch(last.methodErrors[0].message, /secret/);

  const failed = await start(app, { b, methods: ["broken"] });
  const [end] = (await updates(app.fetch, failed.id)).slice(-1);
  assert.equal(end.state, "failed");
  assert.equal(end.errorCode, "INTERNAL");
  assert.doesNotMatch(end.error!, /secret/);
  assert.equal(end.results, null);
});

Deno.test("Job.results: faithfulness is a clear client error; a server without jobs answers UNAVAILABLE", async () => {
  await using fixture = await jobApp([ablationCamExplainer()]);
  const { app } = fixture;
  const b = await tinyPng(45);
  const { id } = await start(app, {
    b,
    methods: ["ablationcam"],
    options: { ablationcam: OPTIONS.ablationcam },
  });
  await updates(app.fetch, id);
  const { body } = await post(
    app,
    `query($id: ID!) { job(id: $id) { results { faithfulness { deletionAuc } } } }`,
    { id },
  );
  assert.equal(codeOf(body), "BAD_USER_INPUT");
  assert.match(body.errors![0].message, /faithfulness/);

  const runtime = await sharedTiny();
  const registry = createRegistry([gradCamExplainer()]);
  const service = await serviceOver(runtime, registry);
  const bare = createApp({ service, registry });
  const refused = await post(bare, START, { b, methods: ["gradcam"] });
  assert.equal(codeOf(refused.body), "UNAVAILABLE");
});
