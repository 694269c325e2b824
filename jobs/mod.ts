/**
 * Jobs: long work (an explanation that takes minutes) run outside the
 * request that asked for it, followed by id, with progress, cancellation, a
 * time limit and results kept for a while. Generic over a JSON payload and
 * result; the work is a {@linkcode JobRunner} the caller supplies. Knows
 * nothing of GraphQL, HTTP or models.
 *
 * The explanation job itself (payload, result, runner over the explanation
 * service, the queue of a process) is `jobs/explanation/mod.ts`, kept apart
 * so that this module loads no model code.
 *
 * Two backends behind one {@linkcode JobQueue} interface:
 * - {@linkcode embeddedJobs}: everything in this process (the default);
 * - {@linkcode redisJobs}: BullMQ on Redis, for many API replicas and
 *   worker processes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddedJobs, type JobQueue, redisJobs } from "./mod.ts";
 *
 * const url: string | undefined = undefined; // or "redis://127.0.0.1:6379"
 * const jobs: JobQueue<{ n: number }, number> = url ? redisJobs(url) : embeddedJobs();
 * // On Redis, worker processes run the jobs; embedded, this process does.
 * if (!url) jobs.runWorker({ runner: async ({ n }) => n * 2, concurrency: 1 });
 * const job = await jobs.start({ n: 21 }, { labels: ["double"] });
 * const states: string[] = [];
 * for await (const update of jobs.updates(job.id)) states.push(update.state);
 * assert.equal(states.at(-1), "succeeded");
 * assert.equal((await jobs.get(job.id)).result, 42);
 * await jobs.close();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export { embeddedJobs, type EmbeddedJobsOptions } from "./embedded.ts";
export { redisJobs, type RedisJobsOptions } from "./redis.ts";
export { DURATION_BOUNDS } from "./_stats.ts";
export { jobMetricFamilies, type JobMetricsOptions } from "./metrics.ts";
