/**
 * A worker process for the Redis tests: `redisJobs(url).runWorker` with the
 * CPU runner of `_cpu_runner.ts`, a stand-in for the model work that the
 * app's `deno task worker` runs. Prints the runner's events as JSON lines
 * (with this process's pid); SIGTERM closes it cleanly (exit 0).
 *
 * Usage: `_worker_process.ts <redis url> <queue options as JSON>`
 *
 * @module
 */
import { redisJobs, type RedisJobsOptions } from "../../jobs/mod.ts";
import { type CpuPayload, type CpuResult, cpuRunner } from "./_cpu_runner.ts";

const [url, json = "{}"] = Deno.args;
const options = JSON.parse(json) as RedisJobsOptions & { concurrency?: number };
const print = (line: Record<string, unknown>) =>
  console.log(JSON.stringify({ ...line, pid: Deno.pid }));
const jobs = redisJobs<CpuPayload, CpuResult>(url, {
  ...options,
  log: (level, msg, fields) => console.error(level, msg, fields?.error ?? ""),
});
const worker = jobs.runWorker({
  runner: cpuRunner(print),
  concurrency: options.concurrency ?? 1,
});
Deno.addSignalListener("SIGTERM", async () => {
  await worker.close({ graceMs: 0 });
  await jobs.close();
  Deno.exit(0);
});
print({ event: "ready" });
