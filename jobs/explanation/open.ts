/**
 * The explanation job queue of one process, from its settings: embedded
 * (queue, store and runner here: the default) or on Redis (an API replica
 * only queues and follows; `deno task worker` runs).
 *
 * @module
 */
import type { Registry } from "../../explainers/mod.ts";
import type { Logger } from "../../lib/mod.ts";
import type { ExplainService } from "../../workers/mod.ts";
import { embeddedJobs } from "../embedded.ts";
import { redisJobs } from "../redis.ts";
import type { JobQueue, JobWorker } from "../types.ts";
import { explanationRunner } from "./runner.ts";
import type {
  ExplanationPayload,
  ExplanationResult,
  JobSettings,
} from "./types.ts";

/** The queue of explanation jobs. */
export type ExplanationQueue = JobQueue<ExplanationPayload, ExplanationResult>;

/** Where this process runs jobs, if it does. */
export interface RunHere {
  /** The model work (the server's own service when embedded). */
  service: ExplainService;
  registry: Registry;
  /**
   * Jobs run at once (one per model worker: more would only wait in the
   * service's queue).
   * @default 1
   */
  concurrency?: number;
}

/** Options of {@linkcode openExplanationJobs}. */
export interface OpenOptions {
  /**
   * Run jobs in this process. Required for the embedded queue (nothing else
   * would run them); on Redis, a worker process gives it, an API replica
   * does not.
   */
  runHere?: RunHere;
  /** @default silent */
  log?: Logger;
}

/** A process's job queue, and the worker running here if any. */
export interface ExplanationJobs {
  readonly queue: ExplanationQueue;
  readonly settings: Readonly<JobSettings>;
  /** Whether the queue lives in this process (no Redis). */
  readonly embedded: boolean;
  /**
   * Stops taking jobs; running ones may finish within `graceMs` (then, on
   * Redis, they go back to the queue for another worker; embedded, they
   * fail with `SHUTTING_DOWN`); then closes the queue (open followers end).
   */
  close(options: { graceMs: number }): Promise<void>;
}

/**
 * Opens the explanation job queue `settings` describe.
 *
 * @example
 * ```ts ignore
 * // `service`: a loaded model's; `settings`: from flags (config/jobs.ts).
 * // The server, embedded: its own service runs the jobs.
 * const jobs = openExplanationJobs(settings, { runHere: { service, registry }, log });
 * // An API replica on Redis: it only queues and follows.
 * const replica = openExplanationJobs({ ...settings, redisUrl: "redis://redis:6379" }, { log });
 * await jobs.close({ graceMs: 20_000 });
 * ```
 */
export function openExplanationJobs(
  settings: Readonly<JobSettings>,
  options: OpenOptions = {},
): ExplanationJobs {
  const log = options.log ?? (() => {});
  const { runHere } = options;
  const embedded = settings.redisUrl === null;
  if (embedded && !runHere) {
    throw new Error("The embedded job queue needs runHere: nothing else runs");
  }
  const queue: ExplanationQueue = embedded
    ? embeddedJobs({
      queueLimit: settings.maxQueued,
      ttlMs: settings.ttlMs,
      log,
    })
    : redisJobs(settings.redisUrl!, {
      queueLimit: settings.maxQueued,
      ttlMs: settings.ttlMs,
      lockDurationMs: settings.lockMs,
      stalledIntervalMs: settings.stalledCheckMs,
      maxStalledCount: settings.attempts - 1,
      log,
    });
  let worker: JobWorker | null = null;
  if (runHere) {
    worker = queue.runWorker({
      runner: explanationRunner(runHere.service, {
        registry: runHere.registry,
        maxPasses: settings.maxPasses,
        attempts: settings.attempts,
        log,
      }),
      concurrency: runHere.concurrency ?? 1,
      jobTimeoutMs: settings.timeoutMs,
    });
  }
  let closing: Promise<void> | undefined;
  return {
    queue,
    settings,
    embedded,
    close({ graceMs }) {
      closing ??= (async () => {
        await worker?.close({ graceMs });
        await queue.close();
      })();
      return closing;
    },
  };
}
