/**
 * Explanation jobs across processes, on a real redis-server: 2 API replicas
 * (`main.ts --redis`) and 2 job workers (`worker.ts --redis`), each with its
 * model worker process, on the tiny network. One fleet for every step (its
 * start is most of the cost): a job followed from another replica, jobs
 * spread over both workers, cancel within one batch, a full queue, expiry,
 * a worker killed mid-job, and Redis going away and coming back.
 *
 * Redis lock timings are short here (LUMEN_JOB_LOCK_MS 2 s, stall checks
 * every 0.5 s) so that a killed worker's job moves on within seconds.
 */
import assert from "node:assert/strict";
import { encodeBase64 } from "../../lib/base64.ts";
import { encodePng } from "../../lib/render.ts";
import { startRedis } from "../_redis.ts";
import {
  type Body,
  eventually,
  gql,
  type LumenProcess,
  metric,
  spawnLumen,
  sse,
  startApi,
  writeSleepyPlugin,
  writeTinyModel,
} from "./_fleet.ts";

const START = `mutation($b: String!, $methods: [String!]!, $options: JSON) {
  startExplanation(image: { base64: $b }, methods: $methods, layer: "b_out",
    options: $options) { id state }
}`;
const FIELDS = `id state progress error errorCode attempts
  results { method label map { width height values } overlay }`;
const GET = `query($id: ID!) { job(id: $id) { ${FIELDS} } }`;
const UPDATES = `subscription($id: ID!) { jobUpdates(id: $id) { ${FIELDS} } }`;
const CANCEL =
  `mutation($id: ID!) { cancelJob(id: $id) { id state errorCode } }`;
const EXPLAIN = `query($b: String!) {
  explain(image: { base64: $b }, method: "gradcam", layer: "b_out") {
    label map { width height values }
  }
}`;

interface JobView {
  id: string;
  state: string;
  progress: number;
  error: string | null;
  errorCode: string | null;
  attempts: number;
  results:
    | { method: string; label: string; map: { values: number[] } }[]
    | null;
}

function codeOf(body: Body): unknown {
  return body.errors?.[0]?.extensions?.code;
}

async function tinyPng(seed: number): Promise<string> {
  const data = new Uint8Array(32 * 32 * 3);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return encodeBase64(await encodePng({ width: 32, height: 32, data }));
}

async function start(
  base: string,
  variables: Record<string, unknown>,
): Promise<string> {
  const { body } = await gql(base, START, variables);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return (body.data!.startExplanation as { id: string }).id;
}

async function get(base: string, id: string): Promise<JobView> {
  const { body } = await gql(base, GET, { id });
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!.job as JobView;
}

/** Follows a job over SSE to its end; every snapshot. */
async function follow(base: string, id: string): Promise<JobView[]> {
  return (await sse(base, UPDATES, { id })).map((result) => {
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    return result.data!.jobUpdates as JobView;
  });
}

function sleepy(batches: number, ms: number, tag: string) {
  return { methods: ["sleepy"], options: { sleepy: { batches, ms, tag } } };
}

/** Which workers logged the start of job `id`. */
function ranBy(workers: LumenProcess[], id: string): string[] {
  return workers.filter((w) =>
    w.logs.some((l) => l.msg === "job started" && l.jobId === id)
  ).map((w) => w.name);
}

Deno.test("Redis fleet: 2 API replicas and 2 workers share jobs, survive a dead worker and Redis going away", async (t) => {
  await using redis = await startRedis();
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-fleet-" });
  try {
    const model = await writeTinyModel(dir);
    const plugin = await writeSleepyPlugin(dir);
    const common = [
      "--redis",
      redis.url,
      "--backend",
      "wasm",
      "--threads",
      "1",
      "--model",
      model,
      "--preprocessing",
      "tf",
      "--plugin",
      plugin,
    ];
    const env = {
      LUMEN_JOB_LOCK_MS: "2000",
      LUMEN_JOB_STALLED_CHECK_MS: "500",
    };
    const workerNames = ["worker-1", "worker-2"];
    const workers = workerNames.map((name) =>
      spawnLumen(
        name,
        "worker.ts",
        [...common, "--shutdown-grace-ms", "0"],
        env,
      )
    );
    await using _w1 = workers[0];
    await using _w2 = workers[1];
    const [a, b] = await Promise.all([
      startApi("api-a", common, env),
      // B keeps results 2 s and queues at most 2 jobs.
      startApi("api-b", [
        ...common,
        "--job-ttl",
        "2s",
        "--max-jobs-queued",
        "2",
      ], env),
    ]);
    await using _a = a.process;
    await using _b = b.process;
    await Promise.all(
      workers.map((w) => w.waitFor((l) => l.msg === "taking jobs", "ready")),
    );
    await eventually(
      async () => await metric(a.base, "lumen_job_workers") === 2,
      "2 workers connected",
    );
    const image = await tinyPng(1);

    await t.step(
      "a job started on replica A is followed to the end on replica B",
      async () => {
        const id = await start(a.base, {
          b: image,
          methods: ["gradcam", "sleepy"],
          options: { sleepy: { batches: 6, ms: 100, tag: "follow" } },
        });
        const events = await follow(b.base, id);
        const progress = events.map((e) => e.progress);
        for (let i = 1; i < progress.length; i++) {
          assert.ok(progress[i] >= progress[i - 1], `${progress}`);
        }
        assert.ok(progress.some((p) => p > 0 && p < 1), `${progress}`);
        const last = events.at(-1)!;
        assert.equal(last.state, "succeeded", JSON.stringify(last));
        assert.equal(last.progress, 1);
        assert.deepEqual(last.results!.map((r) => r.method), [
          "gradcam",
          "sleepy",
        ]);
        assert.deepEqual(last.results![1].map.values, [0.25, 1]);
        // The worker's Grad-CAM is the replica's own, synchronous one.
        const sync = await gql(a.base, EXPLAIN, { b: image });
        const explained = sync.body.data!.explain as JobView["results"] & {
          map: { values: number[] };
          label: string;
        };
        assert.deepEqual(last.results![0].map.values, explained.map.values);
        assert.equal(last.results![0].label, explained.label);
        assert.equal(ranBy(workers, id).length, 1);
      },
    );

    await t.step("20 jobs spread over both workers", async () => {
      const ids = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => start(a.base, { b: image, ...sleepy(1, 150, `s${i}`) }),
        ),
      );
      await eventually(
        async () =>
          (await Promise.all(ids.map((id) => get(b.base, id)))).every((j) =>
            j.state === "succeeded"
          ),
        "20 jobs succeeded",
      );
      const counts = workerNames.map((name) =>
        ids.filter((id) => ranBy(workers, id).includes(name)).length
      );
      assert.equal(counts[0] + counts[1], 20, `${counts}`);
      assert.ok(counts.every((n) => n >= 1), `each ran some: ${counts}`);
    });

    await t.step(
      "cancelJob on replica B stops the work on the worker within one batch",
      async () => {
        const id = await start(a.base, {
          b: image,
          ...sleepy(40, 500, "cancel"),
        });
        const batches = () =>
          workers.flatMap((w) => w.logs).filter((l) =>
            l.msg === "sleepy batch" && l.tag === "cancel"
          ).length;
        await eventually(() => batches() >= 2, "two batches started");
        const seen = batches();
        const { body } = await gql(b.base, CANCEL, { id });
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
        assert.deepEqual(body.data!.cancelJob, {
          id,
          state: "cancelled",
          errorCode: "CANCELLED",
        });
        const [runner] = workers.filter((w) => ranBy([w], id).length > 0);
        const stopped = await runner.waitFor(
          (l) => l.msg === "sleepy stopped" && l.tag === "cancel",
          "the sleepy work stopped",
          30_000,
        );
        // The batch running when the cancel arrived ends; no other starts.
        assert.ok(
          (stopped.started as number) <= seen + 1,
          `started ${stopped.started} batches, ${seen} before the cancel`,
        );
        assert.equal((await get(a.base, id)).state, "cancelled");
      },
    );

    await t.step(
      "past B's queue limit: OVERLOADED with Retry-After",
      async () => {
        const ids = await Promise.all(
          Array.from(
            { length: 4 },
            (_, i) => start(a.base, { b: image, ...sleepy(100, 100, `o${i}`) }),
          ),
        );
        await eventually(
          async () =>
            await metric(a.base, "lumen_job_running") === 2 &&
            await metric(a.base, "lumen_job_queue_length") === 2,
          "2 running, 2 waiting",
        );
        const refused = await gql(b.base, START, {
          b: image,
          ...sleepy(1, 1, "refused"),
        });
        assert.equal(codeOf(refused.body), "OVERLOADED");
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get("retry-after"), "10");
        for (const id of ids) {
          const { body } = await gql(a.base, CANCEL, { id });
          assert.equal(
            (body.data!.cancelJob as JobView).state,
            "cancelled",
            JSON.stringify(body),
          );
        }
      },
    );

    await t.step(
      "results expire after B's --job-ttl: JOB_NOT_FOUND",
      async () => {
        const id = await start(b.base, { b: image, methods: ["gradcam"] });
        const last = (await follow(b.base, id)).at(-1)!;
        assert.equal(last.state, "succeeded");
        await new Promise((resolve) => setTimeout(resolve, 2_200));
        const { body } = await gql(b.base, GET, { id });
        assert.equal(codeOf(body), "JOB_NOT_FOUND");
      },
    );

    await t.step(
      "SIGKILL of the worker running a job: the other worker finishes it",
      async () => {
        const id = await start(a.base, {
          b: image,
          ...sleepy(10, 200, "kill"),
        });
        await eventually(() => ranBy(workers, id).length === 1, "job taken");
        const victim = workers.find((w) => ranBy([w], id).length > 0)!;
        await victim.waitFor(
          (l) => l.msg === "sleepy batch" && l.tag === "kill",
          "a batch of the job",
        );
        victim.kill("SIGKILL");
        await victim.status;
        const last = (await follow(b.base, id)).at(-1)!;
        assert.equal(last.state, "succeeded", JSON.stringify(last));
        assert.equal(last.attempts, 2);
        const survivor = workers.find((w) => w !== victim)!;
        assert.deepEqual(ranBy([survivor], id), [survivor.name]);
      },
    );

    await t.step(
      "Redis away: UNAVAILABLE and /ready 503, nothing crashes, and it recovers",
      async () => {
        const known = await start(a.base, { b: image, methods: ["gradcam"] });
        await follow(a.base, known);
        await redis.stop();
        for (const base of [a.base, b.base]) {
          const read = await gql(base, GET, { id: known });
          assert.equal(codeOf(read.body), "UNAVAILABLE", JSON.stringify(read));
          assert.equal(read.status, 503);
          const started = await gql(base, START, {
            b: image,
            methods: ["gradcam"],
          });
          assert.equal(codeOf(started.body), "UNAVAILABLE");
          const ready = await fetch(`${base}/ready`);
          assert.equal(ready.status, 503);
          assert.equal((await ready.json()).status, "unavailable");
          assert.equal(await metric(base, "lumen_job_store_up"), 0);
        }
        // Synchronous work needs no Redis.
        const sync = await gql(a.base, EXPLAIN, { b: image });
        assert.equal(sync.body.errors, undefined);

        await redis.restart();
        await eventually(
          async () => (await fetch(`${a.base}/ready`)).status === 200,
          "replica A ready again",
        );
        const id = await start(a.base, { b: image, methods: ["gradcam"] });
        const last = (await follow(b.base, id)).at(-1)!;
        assert.equal(last.state, "succeeded");
        for (const p of [a.process, b.process]) {
          assert.equal(p.exited(), false, `${p.name} exited`);
        }
        assert.equal(
          workers.filter((w) => !w.exited()).length,
          1,
          "the surviving worker is still up",
        );
      },
    );

    await t.step("SIGTERM: replicas and the worker exit 0", async () => {
      const alive = [
        a.process,
        b.process,
        ...workers.filter((w) => !w.exited()),
      ];
      for (const p of alive) p.kill("SIGTERM");
      for (const p of alive) assert.equal(await p.status, 0, p.name);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
