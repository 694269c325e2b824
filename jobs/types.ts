/**
 * The job system's vocabulary: a job, its states, the runner that does the
 * work, and the {@linkcode JobQueue} every backend implements. Nothing here
 * knows about GraphQL, HTTP or models: payloads and results are plain JSON.
 *
 * @module
 */

/**
 * Where a job is in its life; the last three are final. A running job goes
 * back to `queued` only when its worker died or shut down and the job waits
 * for another.
 */
export type JobState =
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "cancelled";

/** The final states, after which a job never changes again. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set([
  "succeeded",
  "failed",
  "cancelled",
]);

/** Default time limit of a job run: 15 min. */
export const DEFAULT_JOB_TIMEOUT_MS = 15 * 60_000;

/** Default time a finished job and its result are kept: 1 h. */
export const DEFAULT_TTL_MS = 3_600_000;

/**
 * A snapshot of one job. Plain JSON: times are milliseconds since the epoch.
 *
 * @typeParam R The runner's result.
 */
export interface Job<R = unknown> {
  /** Unguessable: 128 random bits, base64url (22 characters). */
  readonly id: string;
  readonly state: JobState;
  /** 0..1; never decreases, also across retries; 1 once `succeeded`. */
  readonly progress: number;
  readonly createdAt: number;
  /** When the latest attempt started; `null` while queued. */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Why the job failed or stopped, fit for the client; `null` otherwise. */
  readonly error: string | null;
  /**
   * A stable code for `error`: the runner's client-error code (for example
   * `BAD_USER_INPUT`), `TIMEOUT`, `CANCELLED`, `WORKER_LOST` (its workers
   * died too often), `SHUTTING_DOWN` or `INTERNAL` (a bug; details only in
   * the log).
   */
  readonly errorCode: string | null;
  /** The runner's result once `succeeded`, else `null`. */
  readonly result: R | null;
  /** Attempts started: 1 normally, more after a worker died mid-job. */
  readonly attempts: number;
  /** Labels given at start (for example the methods), for metrics. */
  readonly labels: readonly string[];
}

/** What a runner gets besides the payload. */
export interface JobHooks {
  /** The job's id (for log lines). */
  readonly id: string;
  /**
   * Aborts when the job is cancelled, runs past its time limit or its worker
   * shuts down. Check it between batches; the job ends without waiting for
   * the runner once it aborts.
   */
  readonly signal: AbortSignal;
  /** Reports progress, 0..1. Cheap to call often: throttled, monotonic. */
  onProgress(fraction: number): void;
}

/**
 * Does a job's work. Throw a `ClientError` (`lib/errors.ts`) for failures
 * the user caused: its code and message reach the job; any other error
 * becomes `INTERNAL` with a generic message (the worker logs the real one).
 *
 * The worker's event loop must stay free (Redis locks are renewed from it):
 * run heavy work off the main thread, or yield between short batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const runner: JobRunner<{ n: number }, number> = async ({ n }, hooks) => {
 *   let sum = 0;
 *   for (let i = 0; i < n; i++) {
 *     hooks.signal.throwIfAborted();
 *     sum += i;
 *     hooks.onProgress((i + 1) / n);
 *     await new Promise((resolve) => setTimeout(resolve, 0));
 *   }
 *   return sum;
 * };
 * // A worker calls it with the job's hooks:
 * const progress: number[] = [];
 * const sum = await runner({ n: 4 }, {
 *   id: "job-1",
 *   signal: new AbortController().signal,
 *   onProgress: (fraction) => progress.push(fraction),
 * });
 * assert.equal(sum, 0 + 1 + 2 + 3);
 * assert.deepEqual(progress, [0.25, 0.5, 0.75, 1]);
 * ```
 */
export type JobRunner<P, R> = (payload: P, hooks: JobHooks) => Promise<R>;

/** Options of {@linkcode JobQueue.start}. */
export interface StartOptions {
  /**
   * Labels for metrics (durations per label).
   * @default []
   */
  labels?: readonly string[];
}

/** A histogram of durations in seconds, shaped like `lib/prometheus.ts`'s. */
export interface DurationHistogram {
  /** Upper bounds in seconds, ascending, without `+Inf`. */
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; one more than `bounds`. */
  readonly counts: readonly number[];
  /** Sum of all observations, seconds. */
  readonly sum: number;
}

/** Numbers for `/metrics`. On Redis they cover the whole fleet. */
export interface JobStats {
  /** Jobs waiting for a worker (the queue depth). */
  readonly queued: number;
  /** Jobs a worker is running now. */
  readonly running: number;
  /**
   * Jobs that reached a final state since the store began (counters; on
   * Redis they restart when Redis loses its data).
   */
  readonly finished: Readonly<
    Record<"succeeded" | "failed" | "cancelled", number>
  >;
  /** Run time of succeeded jobs, per label (a job counts under each). */
  readonly durations: Readonly<Record<string, DurationHistogram>>;
  /** Live workers taking jobs. */
  readonly workers: number;
}

/** Options of {@linkcode JobQueue.runWorker}. */
export interface WorkerOptions<P, R> {
  /** Does the work of one job. */
  runner: JobRunner<P, R>;
  /**
   * Jobs this worker runs at once.
   * @default 1
   */
  concurrency?: number;
  /**
   * An attempt running longer is aborted and the job fails with `TIMEOUT`
   * (a retry after a worker died starts the clock again).
   * @default 900_000 (15 min)
   */
  jobTimeoutMs?: number;
}

/** Options of {@linkcode JobWorker.close}. */
export interface WorkerCloseOptions {
  /**
   * How long to let running jobs finish. After it, their runners are
   * aborted: on Redis the jobs go back to the queue for another worker (no
   * attempt is lost); embedded they fail with `SHUTTING_DOWN`.
   * @default 10_000
   */
  graceMs?: number;
}

/** A running worker loop. */
export interface JobWorker {
  /** Stops taking jobs, lets running ones finish (see `graceMs`). */
  close(options?: WorkerCloseOptions): Promise<void>;
}

/**
 * A job queue and result store: what an API replica and a worker use. Both
 * backends ({@linkcode embeddedJobs}, {@linkcode redisJobs}) implement it
 * and pass the same conformance suite.
 *
 * Errors are `ClientError`s (`lib/errors.ts`): `OVERLOADED` (with
 * `details.retryAfterS`), `JOB_NOT_FOUND`, `UNAVAILABLE` (the store cannot be
 * reached; retry later), `SHUTTING_DOWN` (after `close`).
 *
 * @typeParam P The payload (JSON).
 * @typeParam R The result (JSON).
 */
export interface JobQueue<P, R> {
  /** Queues a job; throws `OVERLOADED` past the queue length limit. */
  start(payload: P, options?: StartOptions): Promise<Job<R>>;
  /** The job now; `JOB_NOT_FOUND` for an unknown or expired id. */
  get(id: string): Promise<Job<R>>;
  /**
   * Cancels a job: a queued one is `cancelled` at once; a running one's
   * runner sees its signal abort and the job ends `cancelled`. A finished
   * job is returned unchanged.
   */
  cancel(id: string): Promise<Job<R>>;
  /**
   * Follows a job: yields its snapshot now, then whenever its state or
   * progress changes (coalesced: a slow reader gets the latest), and ends
   * after the final state. The first `next()` rejects with `JOB_NOT_FOUND`
   * for an unknown id. Stopping early (`break`, `return()`) releases
   * everything at once.
   */
  updates(id: string): AsyncIterableIterator<Job<R>>;
  /** Numbers for metrics. */
  stats(): Promise<JobStats>;
  /** Resolves when the store is reachable; `UNAVAILABLE` otherwise. */
  ping(): Promise<void>;
  /** Starts a worker that takes this queue's jobs and runs them. */
  runWorker(options: WorkerOptions<P, R>): JobWorker;
  /** Closes workers (aborting what still runs) and connections. */
  close(): Promise<void>;
}
