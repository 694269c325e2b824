/**
 * The job queue's `/metrics` families, from {@linkcode JobStats}: queue
 * depth, running jobs, finished jobs by state, run times by label (the
 * methods) and workers. On Redis they describe the whole fleet, so every
 * API replica reports the same numbers.
 *
 * @module
 */
import type { MetricFamily } from "../lib/mod.ts";
import type { JobStats } from "./types.ts";

/** Options of {@linkcode jobMetricFamilies}. */
export interface JobMetricsOptions {
  /** The queue length limit (`--max-jobs-queued`). */
  capacity: number;
}

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: "gauge", samples: [{ value }] };
}

/**
 * The families for `stats`; with `stats` null (the store could not be
 * read) only `lumen_job_store_up 0`, so that no stale number is reported.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddedJobs } from "./embedded.ts";
 * const jobs = embeddedJobs();
 * // createApp({ extraMetrics: () => jobMetricFamilies(lastStats, { capacity: 100 }) })
 * const families = jobMetricFamilies(await jobs.stats(), { capacity: 100 });
 * await jobs.close();
 * const capacity = families.find((f) => f.name === "lumen_job_queue_capacity");
 * assert.deepEqual(capacity?.samples, [{ value: 100 }]);
 * assert.deepEqual(jobMetricFamilies(null, { capacity: 100 }).map((f) => f.name), [
 *   "lumen_job_store_up", // 0: the store could not be read
 * ]);
 * ```
 */
export function jobMetricFamilies(
  stats: JobStats | null,
  options: JobMetricsOptions,
): MetricFamily[] {
  const up = gauge(
    "lumen_job_store_up",
    "1 while the job store answers (always 1 when embedded; Redis otherwise).",
    stats ? 1 : 0,
  );
  if (!stats) return [up];
  return [
    up,
    gauge(
      "lumen_job_queue_length",
      "Explanation jobs waiting for a worker (the whole fleet on Redis).",
      stats.queued,
    ),
    gauge(
      "lumen_job_queue_capacity",
      "Most explanation jobs that may wait (--max-jobs-queued); more answer OVERLOADED.",
      options.capacity,
    ),
    gauge(
      "lumen_job_running",
      "Explanation jobs a worker is running now.",
      stats.running,
    ),
    {
      name: "lumen_job_finished_total",
      help:
        "Explanation jobs that reached a final state, by state (on Redis: since Redis last lost its data).",
      type: "counter",
      samples: (["succeeded", "failed", "cancelled"] as const).map((state) => ({
        labels: { state },
        value: stats.finished[state],
      })),
    },
    {
      name: "lumen_job_run_seconds",
      help:
        "Run time of succeeded explanation jobs, by method (a job counts under each of its methods).",
      type: "histogram",
      samples: Object.entries(stats.durations).map(([method, histogram]) => ({
        labels: { method },
        ...histogram,
      })),
    },
    gauge(
      "lumen_job_workers",
      "Job workers taking explanation jobs (the embedded one, or the fleet's on Redis).",
      stats.workers,
    ),
  ];
}
