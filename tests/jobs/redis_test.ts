/**
 * The Redis backend (BullMQ) on a real redis-server: the shared conformance
 * suite in one process, then a fleet of processes.
 */
import assert from "node:assert/strict";
import { type Job, type JobQueue, redisJobs } from "../../jobs/mod.ts";
import { startRedis } from "../_redis.ts";
import {
  assertForward,
  assertStoppedWithinOneBatch,
  codeOf,
  conformance,
  follow,
} from "./_conformance.ts";
import {
  type CpuPayload,
  type CpuResult,
  expectedChecksum,
  type RunnerEvent,
} from "./_cpu_runner.ts";
import { spawnScript } from "./_processes.ts";

conformance("redis", async (options) => {
  const redis = await startRedis();
  const jobs = redisJobs<CpuPayload, CpuResult>(redis.url, {
    ...options,
    progressIntervalMs: 20,
    pollMs: 500,
  });
  await jobs.ping();
  return {
    jobs,
    async [Symbol.asyncDispose]() {
      await jobs.close();
      await redis[Symbol.asyncDispose]();
    },
  };
});

/**
 * Fleet tests: worker processes (`_worker_process.ts`, running the CPU
 * runner that stands in for the model work) and a second API replica
 * (`_follow_process.ts`) on one redis-server. Locks and stall checks are
 * short here so that a killed worker's job moves on within seconds (2 s
 * rather than 1 s: a worker starved of CPU must still renew its locks).
 */
const FLEET = {
  queueName: "fleet",
  lockDurationMs: 2_000,
  stalledIntervalMs: 400,
  maxStalledCount: 1,
  progressIntervalMs: 20,
  operationTimeoutMs: 500,
  pollMs: 500,
};

function spawnWorker(url: string, options: Record<string, unknown> = {}) {
  return spawnScript("_worker_process.ts", [
    url,
    JSON.stringify({ ...FLEET, ...options }),
  ]);
}

/** Waits until `count` workers are connected to the queue. */
async function workersUp(
  jobs: JobQueue<CpuPayload, CpuResult>,
  count: number,
): Promise<void> {
  // Generous: on two cores shared with other work, starting a Deno process
  // has taken over 30 s.
  const deadline = Date.now() + 120_000;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = (await jobs.stats()).workers;
    if (seen === count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${count} workers never connected (${seen} did)`);
}

const startOf = (tag: string) => (line: Record<string, unknown>) =>
  line.event === "start" && line.tag === tag;

Deno.test("redis: a job started through client A is followed to its end by client B in another process", async () => {
  await using redis = await startRedis();
  const jobs = redisJobs<CpuPayload, CpuResult>(redis.url, FLEET);
  try {
    const payload = { tag: "ab", batches: 100, work: 3_000_000 };
    const { id } = await jobs.start(payload);
    // B follows the job while it waits, then a worker runs it.
    await using follower = spawnScript("_follow_process.ts", [
      redis.url,
      JSON.stringify(FLEET),
      id,
    ]);
    await follower.waitFor((line) => line.state === "queued", "the queued job");
    await using worker = spawnWorker(redis.url);
    assert.equal((await follower.status).code, 0, follower.stderr());
    const seen = follower.lines as unknown as Job<CpuResult>[];
    assertForward(seen);
    assert.ok(seen.some((job) => job.progress > 0 && job.progress < 1));
    assert.equal(seen.at(-1)!.state, "succeeded");
    assert.deepEqual(seen.at(-1)!.result, {
      tag: "ab",
      checksum: expectedChecksum(payload),
    });
    assert.ok(worker.lines.some(startOf("ab")));
  } finally {
    await jobs.close();
  }
});

Deno.test("redis: 20 jobs spread over 2 worker processes", async () => {
  await using redis = await startRedis();
  const jobs = redisJobs<CpuPayload, CpuResult>(redis.url, FLEET);
  await using one = spawnWorker(redis.url);
  await using two = spawnWorker(redis.url);
  try {
    await workersUp(jobs, 2);
    const payloads = Array.from({ length: 20 }, (_, i) => ({
      tag: `j${i}`,
      batches: 10,
      work: 5_000_000,
    }));
    const ids = [];
    for (const payload of payloads) ids.push((await jobs.start(payload)).id);
    for (const [i, id] of ids.entries()) {
      const last = (await follow(jobs, id)).at(-1)!;
      assert.equal(last.state, "succeeded");
      assert.equal(last.result?.checksum, expectedChecksum(payloads[i]));
    }
    const ran = (worker: typeof one) =>
      worker.lines.filter((line) => line.event === "start").length;
    assert.equal(ran(one) + ran(two), 20);
    assert.ok(ran(one) > 0 && ran(two) > 0, `${ran(one)} and ${ran(two)}`);
    const stats = await jobs.stats();
    assert.equal(stats.finished.succeeded, 20);
    assert.equal(stats.workers, 2);
  } finally {
    await jobs.close();
  }
});

Deno.test("redis: a worker killed mid-job leaves the job to another; one death too many fails it", async () => {
  await using redis = await startRedis();
  const jobs = redisJobs<CpuPayload, CpuResult>(redis.url, FLEET);
  const workers = [spawnWorker(redis.url), spawnWorker(redis.url)];
  try {
    await workersUp(jobs, 2);
    // Retried once: SIGKILL the worker running it, the other finishes it.
    const payload = { tag: "J", batches: 300, work: 3_000_000 };
    const { id } = await jobs.start(payload);
    const batch =
      (tag: string, index: number) => (l: Record<string, unknown>) =>
        l.event === "batch" && l.tag === tag && (l.index as number) >= index;
    const first = await Promise.any(
      workers.map((w) => w.waitFor(batch("J", 5), "J running")),
    );
    const victim = workers.find((w) => w.pid === first.pid)!;
    const survivor = workers.find((w) => w !== victim)!;
    victim.kill("SIGKILL");
    // Read the stored job (no follower smoothing): progress never drops,
    // also when the retry starts over (the state does go back to queued
    // while the job waits for the other worker).
    const seen = [];
    for (let job = await jobs.get(id);; job = await jobs.get(id)) {
      seen.push(job);
      if (job.state === "succeeded" || job.state === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i].progress >= seen[i - 1].progress, "progress dropped");
    }
    const last = seen.at(-1)!;
    assert.equal(last.state, "succeeded");
    assert.equal(last.attempts, 2);
    assert.equal(last.result?.checksum, expectedChecksum(payload));
    assert.ok(survivor.lines.some(startOf("J")));

    // Two deaths with maxStalledCount 1: the job fails with the reason.
    const k = await jobs.start({ tag: "K", batches: 1_000_000 });
    await survivor.waitFor(batch("K", 3), "K running");
    survivor.kill("SIGKILL");
    const third = spawnWorker(redis.url);
    workers.push(third);
    await third.waitFor(batch("K", 3), "K retried");
    third.kill("SIGKILL");
    const fourth = spawnWorker(redis.url);
    workers.push(fourth);
    const end = (await follow(jobs, k.id)).at(-1)!;
    assert.equal(end.state, "failed");
    assert.equal(end.errorCode, "WORKER_LOST");
    assert.match(end.error!, /stopped 2 times/);
    assert.ok(!fourth.lines.some(startOf("K")), "a failed job ran again");
  } finally {
    await jobs.close();
    for (const worker of workers) await worker[Symbol.asyncDispose]();
  }
});

Deno.test("redis: a worker shutting down hands its running job back to the queue; another finishes it", async () => {
  await using redis = await startRedis();
  const jobs = redisJobs<CpuPayload, CpuResult>(redis.url, FLEET);
  await using one = spawnWorker(redis.url);
  await using two = spawnWorker(redis.url);
  try {
    await workersUp(jobs, 2);
    const payload = { tag: "H", batches: 400, work: 3_000_000 };
    const { id } = await jobs.start(payload);
    const first = await Promise.any(
      [one, two].map((w) =>
        w.waitFor((l) => l.event === "batch" && l.tag === "H", "H running")
      ),
    );
    const leaving = first.pid === one.pid ? one : two;
    const staying = leaving === one ? two : one;
    leaving.kill("SIGTERM");
    assert.equal((await leaving.status).code, 0, leaving.stderr());
    const last = (await follow(jobs, id)).at(-1)!;
    assert.equal(last.state, "succeeded");
    assert.equal(last.attempts, 2);
    assert.equal(last.result?.checksum, expectedChecksum(payload));
    assert.ok(staying.lines.some(startOf("H")));
    assert.equal((await jobs.stats()).finished.failed, 0);
  } finally {
    await jobs.close();
  }
});

Deno.test("redis: cancel reaches the worker process running the job and stops it within one batch", async () => {
  await using redis = await startRedis();
  const jobs = redisJobs<CpuPayload, CpuResult>(redis.url, FLEET);
  await using worker = spawnWorker(redis.url);
  try {
    const { id } = await jobs.start({ tag: "cx", batches: 1_000_000 });
    await worker.waitFor(
      (l) => l.event === "batch" && l.tag === "cx",
      "cx running",
    );
    const cancelled = await jobs.cancel(id);
    assert.equal(cancelled.state, "cancelled");
    assert.equal((await jobs.get(id)).errorCode, "CANCELLED");
    const end = await worker.waitFor(
      (l) => l.event === "end" && l.tag === "cx",
      "cx end",
    );
    assertStoppedWithinOneBatch(end as Extract<RunnerEvent, { event: "end" }>);
    // The worker carries on with the next job.
    const next = await jobs.start({ tag: "after", batches: 2 });
    assert.equal((await follow(jobs, next.id)).at(-1)!.state, "succeeded");
  } finally {
    await jobs.close();
  }
});

Deno.test("redis: with Redis away calls answer UNAVAILABLE quickly, nothing crashes, and work resumes when it is back", async () => {
  await using redis = await startRedis();
  const jobs = redisJobs<CpuPayload, CpuResult>(redis.url, FLEET);
  await using worker = spawnWorker(redis.url);
  try {
    await workersUp(jobs, 1);
    const before = await jobs.start({ tag: "before", batches: 2 });
    assert.equal((await follow(jobs, before.id)).at(-1)!.state, "succeeded");

    await redis.stop();
    const calls: [string, () => Promise<unknown>][] = [
      ["start", () => jobs.start({ tag: "down", batches: 1 })],
      ["get", () => jobs.get(before.id)],
      ["cancel", () => jobs.cancel(before.id)],
      ["updates", () => jobs.updates(before.id).next()],
      ["stats", () => jobs.stats()],
      ["ping", () => jobs.ping()],
    ];
    for (const [name, call] of calls) {
      const t0 = Date.now();
      await assert.rejects(call(), (e) => codeOf(e) === "UNAVAILABLE", name);
      // operationTimeoutMs is 500; 5 s leaves room for two busy cores.
      assert.ok(Date.now() - t0 < 5_000, `${name} took ${Date.now() - t0} ms`);
    }
    // A replica that starts while Redis is away answers the same way.
    const late = redisJobs<CpuPayload, CpuResult>(redis.url, FLEET);
    await assert.rejects(late.ping(), (e) => codeOf(e) === "UNAVAILABLE");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.ok(!worker.exited(), `the worker exited:\n${worker.stderr()}`);

    await redis.restart();
    for (let i = 0;; i++) {
      try {
        await jobs.ping();
        break;
      } catch (error) {
        if (i === 300) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await workersUp(jobs, 1);
    const after = await jobs.start({ tag: "after", batches: 2 });
    assert.equal((await follow(jobs, after.id)).at(-1)!.state, "succeeded");
    await late.ping();
    assert.equal((await late.get(after.id)).state, "succeeded");
    await late.close();
    assert.ok(worker.lines.some(startOf("after")));
    worker.kill("SIGTERM");
    assert.equal((await worker.status).code, 0, worker.stderr());
  } finally {
    await jobs.close();
  }
});
