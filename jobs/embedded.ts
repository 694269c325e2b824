/**
 * The embedded backend: queue, workers and result store in this process.
 * Nothing to install; jobs and results are lost when the process ends.
 *
 * @module
 */
import { closedError, jobNotFound, overloaded } from "./_errors.ts";
import { type Change, followJob } from "./_follow.ts";
import { isJobId, newJobId } from "./_ids.ts";
import { progressReporter } from "./_progress.ts";
import { type Outcome, runAttempt, STOP } from "./_run.ts";
import type { Logger } from "../lib/mod.ts";
import {
  addFinished,
  durationsOf,
  emptyTotals,
  type FinalState,
} from "./_stats.ts";
import {
  DEFAULT_JOB_TIMEOUT_MS,
  DEFAULT_TTL_MS,
  type Job,
  type JobQueue,
  type JobRunner,
  type JobStats,
  type JobWorker,
  type StartOptions,
  type WorkerOptions,
} from "./types.ts";

/** Options of {@linkcode embeddedJobs}. */
export interface EmbeddedJobsOptions {
  /**
   * Queued jobs allowed; `start` answers `OVERLOADED` beyond.
   * @default 100
   */
  queueLimit?: number;
  /**
   * How long a finished job (and its result) is kept.
   * @default 3_600_000 (1 h)
   */
  ttlMs?: number;
  /**
   * The `Retry-After` of `OVERLOADED`, seconds.
   * @default 10
   */
  retryAfterS?: number;
  /**
   * Where internal errors of runners are logged.
   * @default no logging
   */
  log?: Logger;
}

interface Entry<P, R> {
  job: Job<R>;
  /** Dropped once the job ends, to free its memory. */
  payload: P | undefined;
  stop?: AbortController | undefined;
  run?: Promise<void>;
  readonly watchers: Set<(change: Change) => void>;
}

interface LocalWorker<P, R> {
  readonly runner: JobRunner<P, R>;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly running: Set<Promise<void>>;
  closing: boolean;
}

/**
 * A job queue in this process: `runWorker` runs its jobs here. The default
 * when no Redis is configured.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const jobs = embeddedJobs<{ n: number }, number>({ ttlMs: 60_000 });
 * jobs.runWorker({ runner: async ({ n }) => n * 2 });
 * const { id } = await jobs.start({ n: 21 });
 * let last = "";
 * for await (const job of jobs.updates(id)) last = `${job.state} ${job.progress}`;
 * assert.equal(last, "succeeded 1");
 * assert.equal((await jobs.get(id)).result, 42);
 * await jobs.close();
 * ```
 */
export function embeddedJobs<P, R>(
  options: EmbeddedJobsOptions = {},
): JobQueue<P, R> {
  const queueLimit = options.queueLimit ?? 100;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const retryAfterS = options.retryAfterS ?? 10;
  const log = options.log ?? (() => {});
  const entries = new Map<string, Entry<P, R>>();
  const waiting: string[] = [];
  /** Finished ids in finishing order, for expiry from the oldest. */
  const finishedOrder = new Set<string>();
  const workers = new Set<LocalWorker<P, R>>();
  /** The change callbacks of open `updates` iterators, woken on close. */
  const followers = new Set<(change: Change) => void>();
  const totals = emptyTotals();
  let closed = false;

  const sweep = () => {
    const now = Date.now();
    for (const id of finishedOrder) {
      const entry = entries.get(id);
      if (entry && entry.job.finishedAt! + ttlMs > now) break;
      finishedOrder.delete(id);
      entries.delete(id);
    }
  };
  const sweeper = setInterval(sweep, Math.min(ttlMs, 60_000));
  Deno.unrefTimer(sweeper);

  const update = (
    entry: Entry<P, R>,
    patch: Partial<Job<R>>,
    change: Change,
  ) => {
    entry.job = { ...entry.job, ...patch };
    for (const watcher of entry.watchers) watcher(change);
  };

  const finish = (
    entry: Entry<P, R>,
    state: FinalState,
    patch: Partial<Job<R>>,
  ) => {
    const now = Date.now();
    entry.payload = undefined;
    entry.stop = undefined;
    update(entry, { ...patch, state, finishedAt: now }, null);
    finishedOrder.add(entry.job.id);
    const seconds = (now - (entry.job.startedAt ?? now)) / 1000;
    addFinished(totals, { state, labels: entry.job.labels, seconds });
  };

  const settle = (entry: Entry<P, R>, outcome: Outcome<R>) => {
    const { id } = entry.job;
    if (outcome.kind === "succeeded") {
      finish(entry, "succeeded", { progress: 1, result: outcome.result });
    } else if (outcome.kind === "failed") {
      if (outcome.failure.code === "INTERNAL") {
        log("error", "job failed", { jobId: id, error: outcome.cause });
      }
      finish(entry, "failed", {
        error: outcome.failure.message,
        errorCode: outcome.failure.code,
      });
    } else if (outcome.reason === STOP.cancel) {
      finish(entry, "cancelled", {
        error: "The job was cancelled",
        errorCode: "CANCELLED",
      });
    } else {
      finish(entry, "failed", {
        error: "The server shut down while the job was running",
        errorCode: "SHUTTING_DOWN",
      });
    }
  };

  const runOne = async (worker: LocalWorker<P, R>, entry: Entry<P, R>) => {
    entry.stop = new AbortController();
    update(entry, {
      state: "running",
      startedAt: Date.now(),
      attempts: entry.job.attempts + 1,
    }, null);
    const progress = progressReporter(
      (fraction) =>
        update(entry, { progress: fraction }, { progress: fraction }),
      { floor: entry.job.progress },
    );
    const outcome = await runAttempt(worker.runner, entry.payload as P, {
      jobId: entry.job.id,
      stop: entry.stop.signal,
      timeoutMs: worker.timeoutMs,
      onProgress: progress.report,
    });
    await progress.end();
    settle(entry, outcome);
  };

  const pump = () => {
    for (const worker of workers) {
      while (
        !worker.closing && worker.running.size < worker.concurrency &&
        waiting.length > 0
      ) {
        const entry = entries.get(waiting.shift()!)!;
        const run = runOne(worker, entry).finally(() => {
          worker.running.delete(run);
          pump();
        });
        entry.run = run;
        worker.running.add(run);
      }
    }
  };

  const lookup = (id: string): Entry<P, R> => {
    if (closed) throw closedError();
    sweep();
    const entry = isJobId(id) ? entries.get(id) : undefined;
    if (!entry) throw jobNotFound(id);
    return entry;
  };

  const closeWorker = async (worker: LocalWorker<P, R>, graceMs: number) => {
    worker.closing = true;
    const all = Promise.all(worker.running);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise((resolve) =>
      timer = setTimeout(resolve, graceMs)
    );
    await Promise.race([all, grace]);
    clearTimeout(timer);
    for (const entry of entries.values()) {
      if (entry.run && worker.running.has(entry.run)) {
        entry.stop?.abort(STOP.shutdown);
      }
    }
    await all;
    workers.delete(worker);
  };

  return {
    start(payload: P, startOptions: StartOptions = {}) {
      if (closed) return Promise.reject(closedError());
      sweep();
      if (waiting.length >= queueLimit) {
        return Promise.reject(overloaded(queueLimit, retryAfterS));
      }
      const job: Job<R> = {
        id: newJobId(),
        state: "queued",
        progress: 0,
        createdAt: Date.now(),
        startedAt: null,
        finishedAt: null,
        error: null,
        errorCode: null,
        result: null,
        attempts: 0,
        labels: [...(startOptions.labels ?? [])],
      };
      entries.set(job.id, { job, payload, watchers: new Set() });
      waiting.push(job.id);
      pump();
      return Promise.resolve(job);
    },

    get(id: string) {
      try {
        return Promise.resolve(lookup(id).job);
      } catch (error) {
        return Promise.reject(error);
      }
    },

    async cancel(id: string) {
      const entry = lookup(id);
      if (entry.job.state === "queued") {
        waiting.splice(waiting.indexOf(id), 1);
        finish(entry, "cancelled", {
          error: "The job was cancelled",
          errorCode: "CANCELLED",
        });
      } else if (entry.job.state === "running") {
        entry.stop?.abort(STOP.cancel);
        await entry.run;
      }
      return entry.job;
    },

    updates(id: string) {
      const iterator = followJob<R>({
        load: () => Promise.resolve(lookup(id).job),
        watch(onChange) {
          const entry = lookup(id);
          entry.watchers.add(onChange);
          followers.add(onChange);
          return () => {
            entry.watchers.delete(onChange);
            followers.delete(onChange);
          };
        },
      });
      return iterator;
    },

    stats(): Promise<JobStats> {
      if (closed) return Promise.reject(closedError());
      let running = 0;
      for (const worker of workers) running += worker.running.size;
      return Promise.resolve({
        queued: waiting.length,
        running,
        finished: { ...totals.finished },
        durations: durationsOf(totals),
        workers: [...workers].filter((worker) => !worker.closing).length,
      });
    },

    ping() {
      return closed ? Promise.reject(closedError()) : Promise.resolve();
    },

    runWorker(workerOptions: WorkerOptions<P, R>): JobWorker {
      if (closed) throw closedError();
      const worker: LocalWorker<P, R> = {
        runner: workerOptions.runner,
        concurrency: workerOptions.concurrency ?? 1,
        timeoutMs: workerOptions.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
        running: new Set(),
        closing: false,
      };
      workers.add(worker);
      pump();
      let closing: Promise<void> | undefined;
      return {
        close(closeOptions = {}) {
          closing ??= closeWorker(worker, closeOptions.graceMs ?? 10_000);
          return closing;
        },
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      await Promise.all([...workers].map((worker) => closeWorker(worker, 0)));
      // Their next read answers SHUTTING_DOWN, which ends them.
      for (const onChange of [...followers]) onChange(null);
    },
  };
}
