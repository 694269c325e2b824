/**
 * The embedded backend: the shared conformance suite, plus what only an
 * in-process queue does (close ends running jobs and followers).
 */
import assert from "node:assert/strict";
import { embeddedJobs } from "../../jobs/mod.ts";
import {
  assertStoppedWithinOneBatch,
  codeOf,
  conformance,
  follow,
  runnerEnd,
  until,
} from "./_conformance.ts";
import {
  type CpuPayload,
  type CpuResult,
  cpuRunner,
  type RunnerEvent,
} from "./_cpu_runner.ts";

conformance("embedded", (options) => {
  const jobs = embeddedJobs<CpuPayload, CpuResult>(options);
  return Promise.resolve({ jobs, [Symbol.asyncDispose]: () => jobs.close() });
});

Deno.test("embedded: a worker's close lets a running job finish within its grace", async () => {
  const jobs = embeddedJobs<CpuPayload, CpuResult>();
  const worker = jobs.runWorker({ runner: cpuRunner() });
  const { id } = await jobs.start({ tag: "g", batches: 20 });
  await until(jobs, id, (job) => job.state === "running");
  await worker.close({ graceMs: 60_000 });
  assert.equal((await jobs.get(id)).state, "succeeded");
  await jobs.close();
});

Deno.test("embedded: close stops running jobs (SHUTTING_DOWN), ends followers, refuses calls", async () => {
  const jobs = embeddedJobs<CpuPayload, CpuResult>();
  const events: RunnerEvent[] = [];
  jobs.runWorker({ runner: cpuRunner((e) => events.push(e)) });
  const { id } = await jobs.start({ tag: "s", batches: 100_000 });
  const running = await until(jobs, id, (job) => job.progress > 0);
  const follower = follow(jobs, running.id);
  await jobs.close();
  await assert.rejects(follower, (e) => codeOf(e) === "SHUTTING_DOWN");
  assertStoppedWithinOneBatch(await runnerEnd(events, "s"));
  await assert.rejects(jobs.get(id), (e) => codeOf(e) === "SHUTTING_DOWN");
  await assert.rejects(
    jobs.start({ tag: "x", batches: 1 }),
    (e) => codeOf(e) === "SHUTTING_DOWN",
  );
});
