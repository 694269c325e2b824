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
 * import { embeddedJobs, redisJobs } from "./jobs/mod.ts";
 *
 * const jobs = url ? redisJobs<Payload, Result>(url) : embeddedJobs<Payload, Result>();
 * if (!url) jobs.runWorker({ runner, concurrency: 1 }); // workers run it elsewhere
 * const job = await jobs.start(payload, { labels: ["scorecam"] });
 * for await (const update of jobs.updates(job.id)) render(update);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export { embeddedJobs, type EmbeddedJobsOptions } from "./embedded.ts";
export { redisJobs, type RedisJobsOptions } from "./redis.ts";
export { DURATION_BOUNDS } from "./_stats.ts";
export { jobMetricFamilies, type JobMetricsOptions } from "./metrics.ts";
