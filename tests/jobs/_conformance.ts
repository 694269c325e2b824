/**
 * One suite that every job backend runs (embedded, Redis): the guarantees of
 * the `JobQueue` interface, checked with a real CPU runner in this process
 * (`_cpu_runner.ts`, a stand-in for the model work).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Job, JobQueue } from "../../jobs/mod.ts";
import { isClientError } from "../../lib/errors.ts";
import {
  type CpuPayload,
  type CpuResult,
  cpuRunner,
  expectedChecksum,
  type RunnerEvent,
} from "./_cpu_runner.ts";

/** A backend under test, disposed after each test. */
export interface Backend extends AsyncDisposable {
  readonly jobs: JobQueue<CpuPayload, CpuResult>;
}

/** Options every backend honours. */
export interface BackendOptions {
  queueLimit?: number;
  ttlMs?: number;
}

/** Makes a fresh backend for one test. */
export type MakeBackend = (options?: BackendOptions) => Promise<Backend>;

const ORDER = ["queued", "running", "succeeded", "failed", "cancelled"];

/** The code of a client error. */
export function codeOf(error: unknown): unknown {
  return isClientError(error) ? error.code : undefined;
}

/** Reads all updates of a job until it ends. */
export async function follow<R>(
  jobs: JobQueue<unknown, R> | JobQueue<CpuPayload, R>,
  id: string,
): Promise<Job<R>[]> {
  const seen: Job<R>[] = [];
  for await (const job of jobs.updates(id)) seen.push(job);
  return seen;
}

/** Resolves once `predicate` holds for a snapshot of job `id`. */
export async function until<R>(
  jobs: JobQueue<CpuPayload, R>,
  id: string,
  predicate: (job: Job<R>) => boolean,
): Promise<Job<R>> {
  for await (const job of jobs.updates(id)) {
    if (predicate(job)) return job;
  }
  throw new Error(`Job ${id} ended before the condition held`);
}

/** Rejects instead of hanging when `promise` takes longer than `ms`. */
export function bounded<T>(promise: Promise<T>, ms: number, what: string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error(`${what}: no answer`)), ms)
    ),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The runner's `end` event for `tag`, once it comes: a job ends as soon as
 * its signal aborts, and the runner notices at its next check.
 */
export async function runnerEnd(
  events: readonly RunnerEvent[],
  tag: string,
): Promise<Extract<RunnerEvent, { event: "end" }>> {
  for (let i = 0; i < 2_000; i++) {
    const end = events.find((e) => e.event === "end" && e.tag === tag);
    if (end?.event === "end") return end;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`The runner of "${tag}" never ended`);
}

/** Checks that the runner stopped within one batch of its abort. */
export function assertStoppedWithinOneBatch(
  end: Extract<RunnerEvent, { event: "end" }>,
): void {
  assert.notEqual(end.abortedAfter, null, "the runner's signal never aborted");
  assert.ok(
    end.done - end.abortedAfter! <= 1,
    `ran ${end.done - end.abortedAfter!} batches after its abort`,
  );
}

/** Checks that a sequence of snapshots only moves forward. */
export function assertForward<R>(seen: readonly Job<R>[]): void {
  for (let i = 1; i < seen.length; i++) {
    assert.ok(
      seen[i].progress >= seen[i - 1].progress,
      `progress went down: ${seen[i - 1].progress} → ${seen[i].progress}`,
    );
    assert.ok(
      ORDER.indexOf(seen[i].state) >= ORDER.indexOf(seen[i - 1].state),
      `state went back: ${seen[i - 1].state} → ${seen[i].state}`,
    );
  }
}

/** Registers the suite for one backend. */
export function conformance(name: string, make: MakeBackend): void {
  Deno.test(`${name}: a job runs with rising progress and returns the runner's result`, async () => {
    await using backend = await make();
    const { jobs } = backend;
    const worker = jobs.runWorker({ runner: cpuRunner() });
    const payload = { tag: "a", batches: 40, work: 3_000_000 };
    const started = await jobs.start(payload, {
      labels: ["scorecam", "occlusion"],
    });
    assert.match(started.id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(started.state, "queued");
    const seen = await follow(jobs, started.id);
    assertForward(seen);
    const last = seen.at(-1)!;
    assert.equal(last.state, "succeeded");
    assert.equal(last.progress, 1);
    assert.deepEqual(last.result, {
      tag: "a",
      checksum: expectedChecksum(payload),
    });
    assert.equal(last.attempts, 1);
    assert.deepEqual(last.labels, ["scorecam", "occlusion"]);
    assert.ok(
      last.createdAt <= last.startedAt! && last.startedAt! <= last.finishedAt!,
    );
    assert.ok(
      seen.some((job) => job.progress > 0 && job.progress < 1),
      `no progress between 0 and 1 in ${seen.map((j) => j.progress)}`,
    );
    assert.deepEqual(await jobs.get(started.id), last);
    const stats = await jobs.stats();
    assert.equal(stats.finished.succeeded, 1);
    assert.equal(stats.queued, 0);
    assert.equal(stats.running, 0);
    const seconds = (last.finishedAt! - last.startedAt!) / 1000;
    for (const label of ["scorecam", "occlusion"]) {
      const histogram = stats.durations[label];
      assert.equal(histogram.counts.reduce((a, b) => a + b), 1);
      assert.equal(histogram.counts.length, histogram.bounds.length + 1);
      assert.ok(Math.abs(histogram.sum - seconds) < 0.05, `${histogram.sum} s`);
    }
    assert.ok(stats.workers >= 1);
    await worker.close();
  });

  Deno.test(`${name}: cancel ends a queued job at once and a running one within one batch`, async () => {
    await using backend = await make();
    const { jobs } = backend;
    const events: RunnerEvent[] = [];
    const worker = jobs.runWorker({ runner: cpuRunner((e) => events.push(e)) });
    const long = await jobs.start({
      tag: "long",
      batches: 5_000,
      work: 2_000_000,
    });
    const queued = await jobs.start({ tag: "queued", batches: 1 });
    await until(jobs, long.id, (job) => job.progress > 0);
    const cancelledQueued = await jobs.cancel(queued.id);
    assert.equal(cancelledQueued.state, "cancelled");
    assert.equal(cancelledQueued.errorCode, "CANCELLED");
    assert.equal((await jobs.get(queued.id)).state, "cancelled");
    await jobs.cancel(long.id);
    const seen = await follow(jobs, long.id);
    assert.equal(seen.at(-1)!.state, "cancelled");
    assert.equal(seen.at(-1)!.result, null);
    const end = await runnerEnd(events, "long");
    assertStoppedWithinOneBatch(end);
    assert.ok(end.done < 5_000);
    assert.ok(
      !events.some((e) => e.tag === "queued"),
      "a cancelled queued job ran",
    );
    const stats = await jobs.stats();
    assert.equal(stats.finished.cancelled, 2);
    assert.equal(stats.finished.succeeded, 0);
    await worker.close();
  });

  Deno.test(`${name}: a finished job is gone after its TTL`, async () => {
    await using backend = await make({ ttlMs: 1_500 });
    const { jobs } = backend;
    const worker = jobs.runWorker({ runner: cpuRunner() });
    const { id } = await jobs.start({ tag: "ttl", batches: 2 });
    const [last] = (await follow(jobs, id)).slice(-1);
    assert.equal(last.state, "succeeded");
    assert.equal((await jobs.get(id)).state, "succeeded");
    const wait = last.finishedAt! + 1_500 + 50 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    await assert.rejects(jobs.get(id), (e) => codeOf(e) === "JOB_NOT_FOUND");
    await assert.rejects(jobs.cancel(id), (e) => codeOf(e) === "JOB_NOT_FOUND");
    await assert.rejects(
      jobs.updates(id).next(),
      (e) => codeOf(e) === "JOB_NOT_FOUND",
    );
    await worker.close();
  });

  Deno.test(`${name}: a job past its time limit fails with TIMEOUT and its runner stops`, async () => {
    await using backend = await make();
    const { jobs } = backend;
    const events: RunnerEvent[] = [];
    const worker = jobs.runWorker({
      runner: cpuRunner((e) => events.push(e)),
      jobTimeoutMs: 300,
    });
    const { id } = await jobs.start({ tag: "slow", batches: 100_000 });
    const last = (await follow(jobs, id)).at(-1)!;
    assert.equal(last.state, "failed");
    assert.equal(last.errorCode, "TIMEOUT");
    assert.match(last.error!, /300 ms/);
    assertStoppedWithinOneBatch(await runnerEnd(events, "slow"));
    await worker.close();
  });

  Deno.test(`${name}: past the queue limit start answers OVERLOADED with a retry delay`, async () => {
    await using backend = await make({ queueLimit: 2 });
    const { jobs } = backend;
    await jobs.start({ tag: "1", batches: 1 });
    await jobs.start({ tag: "2", batches: 1 });
    const error = await jobs.start({ tag: "3", batches: 1 }).catch((e) => e);
    assert.equal(codeOf(error), "OVERLOADED");
    assert.equal(error.details.limit, 2);
    assert.ok(error.details.retryAfterS > 0);
    assert.equal((await jobs.stats()).queued, 2);
  });

  Deno.test(`${name}: updates() ends at the final state; return() releases a waiting reader`, async () => {
    await using backend = await make();
    const { jobs } = backend;
    const { id } = await jobs.start({ tag: "idle", batches: 1 });
    const updates = jobs.updates(id);
    const first = await updates.next();
    assert.equal(first.value?.state, "queued");
    const waiting = updates.next();
    await updates.return!();
    assert.deepEqual(await bounded(waiting, 10_000, "pending next()"), {
      done: true,
      value: undefined,
    });
    assert.deepEqual(await updates.next(), { done: true, value: undefined });
    const worker = jobs.runWorker({ runner: cpuRunner() });
    const seen = await follow(jobs, id);
    assert.equal(seen.at(-1)!.state, "succeeded");
    await worker.close();
  });

  Deno.test(`${name}: close ends open updates() iterators`, async () => {
    await using backend = await make();
    const { jobs } = backend;
    const { id } = await jobs.start({ tag: "open", batches: 1 });
    const updates = jobs.updates(id);
    assert.equal((await updates.next()).value?.state, "queued");
    const ended = updates.next().then(() => null, (error) => error);
    await jobs.close();
    const error = await bounded(ended, 10_000, "next() after close");
    assert.equal(codeOf(error), "SHUTTING_DOWN");
  });

  Deno.test(`${name}: client errors keep their code, other errors become INTERNAL`, async () => {
    await using backend = await make();
    const { jobs } = backend;
    const worker = jobs.runWorker({ runner: cpuRunner() });
    const client = await jobs.start({
      tag: "c",
      batches: 3,
      fail: "client",
      failAt: 1,
    });
    const internal = await jobs.start({
      tag: "i",
      batches: 3,
      fail: "internal",
    });
    const c = (await follow(jobs, client.id)).at(-1)!;
    assert.equal(c.state, "failed");
    assert.equal(c.errorCode, "BAD_USER_INPUT");
    assert.equal(c.error, `Job "c" asked to fail`);
    const i = (await follow(jobs, internal.id)).at(-1)!;
    assert.equal(i.state, "failed");
    assert.equal(i.errorCode, "INTERNAL");
    assert.doesNotMatch(i.error!, /Internal failure/);
    assert.equal((await jobs.stats()).finished.failed, 2);
    await worker.close();
  });

  Deno.test(`${name}: unknown ids answer JOB_NOT_FOUND`, async () => {
    await using backend = await make();
    const { jobs } = backend;
    for (const id of ["nope", "a:b", "AAAAAAAAAAAAAAAAAAAAAA"]) {
      await assert.rejects(jobs.get(id), (e) => codeOf(e) === "JOB_NOT_FOUND");
      await assert.rejects(
        jobs.cancel(id),
        (e) => codeOf(e) === "JOB_NOT_FOUND",
      );
      await assert.rejects(
        jobs.updates(id).next(),
        (e) => codeOf(e) === "JOB_NOT_FOUND",
      );
    }
  });
}
