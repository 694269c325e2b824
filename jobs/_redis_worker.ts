/**
 * The Redis worker: a BullMQ `Worker` whose processor runs the caller's
 * runner. BullMQ owns locks, stalled-job recovery and concurrency; this file
 * adds cancellation (a custom event on the queue's event stream), the time
 * limit, progress, failure codes, fleet totals and the TTL clean-up.
 *
 * Cancelling a running job: the client sets the job's cancel key, then
 * publishes {@linkcode CANCEL_EVENT}; the worker holding the job aborts it
 * (`Worker.cancelJob`), and a worker starting a job checks the key first, so
 * a cancel that raced with the start, or whose worker died, is not lost.
 *
 * @module
 */
import type { Logger } from "../lib/mod.ts";
import {
  type Job as BullJob,
  type Queue,
  type QueueEvents,
  type QueueEventsListener,
  type RedisOptions,
  UnrecoverableError,
  WaitingError,
  Worker,
} from "bullmq";
import { progressReporter } from "./_progress.ts";
import { type RedisCommands, throttled } from "./_redis_connection.ts";
import { decodeFailure, encodeFailure, type JobData } from "./_redis_job.ts";
import { runAttempt, STOP } from "./_run.ts";
import { type FinalState, totalsFields } from "./_stats.ts";
import {
  DEFAULT_JOB_TIMEOUT_MS,
  type JobWorker,
  type WorkerOptions,
} from "./types.ts";

/** The custom event a client publishes to cancel a running job. */
export const CANCEL_EVENT = "lumen:cancel";

/** The queue events this module listens to, custom ones included. */
export interface LumenQueueEvents extends QueueEventsListener {
  [CANCEL_EVENT]: (args: { jobId: string }, id: string) => void;
}

/** What a worker shares with its queue's client. */
export interface WorkerContext {
  readonly queue: Queue;
  readonly events: QueueEvents;
  /** Options of the worker's own (blocking) connections. */
  readonly connection: RedisOptions;
  readonly prefix: string;
  /** The Redis hash of fleet totals. */
  readonly totalsKey: string;
  /** The key that says a job's cancel was asked for. */
  cancelKey(id: string): string;
  readonly ttlMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly progressIntervalMs: number;
  /** The raw client of `queue`, for the totals (fails fast). */
  commands(): Promise<RedisCommands>;
  readonly log: Logger;
}

/**
 * Starts a BullMQ worker on `context.queue` running `options.runner`.
 *
 * @example
 * ```ts ignore
 * // Needs Redis: `context` holds a BullMQ Queue on it (see redisJobs).
 * const worker = startRedisWorker(context, { runner, concurrency: 1 });
 * await worker.close({ graceMs: 5_000 });
 * ```
 */
export function startRedisWorker<P, R>(
  context: WorkerContext,
  options: WorkerOptions<P, R>,
): JobWorker {
  const { log } = context;
  const timeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  const cancelAsked = async (id: string): Promise<boolean> => {
    try {
      const redis = await context.commands();
      return await redis.exists(context.cancelKey(id)) === 1;
    } catch (error) {
      log("warn", "job cancel key not read", { jobId: id, error });
      return false;
    }
  };

  const processor = async (
    job: BullJob<JobData<P>, R>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<R> => {
    const id = job.id!;
    const stop = signal ?? new AbortController().signal;
    const cancelled = await cancelAsked(id);
    const floor = typeof job.progress === "number" ? job.progress : 0;
    const progress = progressReporter((p) => job.updateProgress(p), {
      floor,
      intervalMs: context.progressIntervalMs,
      onError: (error) =>
        log("warn", "job progress not sent", { jobId: id, error }),
    });
    const outcome = cancelled
      ? { kind: "stopped" as const, reason: STOP.cancel }
      : await runAttempt(options.runner, job.data.payload, {
        jobId: id,
        stop,
        timeoutMs,
        onProgress: progress.report,
      });
    await progress.end();
    if (outcome.kind === "succeeded") return outcome.result;
    if (outcome.kind === "failed") {
      if (outcome.failure.code === "INTERNAL") {
        log("error", "job failed", { jobId: id, error: outcome.cause });
      }
      throw new UnrecoverableError(encodeFailure(outcome.failure));
    }
    if (outcome.reason === STOP.cancel) {
      throw new UnrecoverableError(
        encodeFailure({ code: "CANCELLED", message: "The job was cancelled" }),
      );
    }
    if (outcome.reason === STOP.shutdown) {
      // BullMQ's manual-retry pattern: another worker takes the job again,
      // and no attempt is counted against it.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    throw new Error("The worker lost the job's lock; another worker runs it");
  };

  const worker = new Worker<JobData<P>, R>(
    context.queue.name,
    processor,
    {
      connection: context.connection,
      prefix: context.prefix,
      concurrency: options.concurrency ?? 1,
      lockDuration: context.lockDurationMs,
      stalledInterval: context.stalledIntervalMs,
      maxStalledCount: context.maxStalledCount,
    },
  );

  const count = async (
    state: FinalState,
    labels: readonly string[],
    seconds: number,
  ) => {
    const { counts, sums } = totalsFields({ state, labels, seconds });
    try {
      const redis = await context.commands();
      const multi = redis.multi();
      for (const field of counts) multi.hincrby(context.totalsKey, field, 1);
      for (const field of sums) {
        multi.hincrbyfloat(context.totalsKey, field, seconds);
      }
      await multi.exec();
    } catch (error) {
      log("warn", "job totals not updated", { error });
    }
  };
  worker.on("completed", (job) => {
    const seconds = ((job.finishedOn ?? 0) - (job.processedOn ?? 0)) / 1000;
    void count("succeeded", job.data.labels, Math.max(0, seconds));
  });
  worker.on("failed", (job, error) => {
    const reason = job?.failedReason ?? error.message;
    const failure = decodeFailure(reason, job?.stalledCounter ?? 0);
    const state = failure.code === "CANCELLED" ? "cancelled" : "failed";
    void count(state, job?.data.labels ?? [], 0);
  });
  worker.on("lockRenewalFailed", (ids) => {
    for (const id of ids) worker.cancelJob(id, STOP.lockLost);
  });
  worker.on("error", throttled(log, "job worker error"));

  const onCancel = ({ jobId }: { jobId: string }) => {
    worker.cancelJob(jobId, STOP.cancel);
  };
  context.events.on<LumenQueueEvents>(CANCEL_EVENT, onCancel);

  // BullMQ removes finished jobs past their age only when another job
  // finishes; this clean-up also covers a queue that has gone quiet.
  const cleaner = setInterval(() => {
    for (const type of ["completed", "failed"] as const) {
      context.queue.clean(context.ttlMs, 1_000, type).catch(() => {});
    }
  }, Math.min(context.ttlMs, 60_000));
  Deno.unrefTimer(cleaner);

  let closing: Promise<void> | undefined;
  const close = async (graceMs: number) => {
    clearInterval(cleaner);
    context.events.off<LumenQueueEvents>(CANCEL_EVENT, onCancel);
    if (!await context.commands().then(() => true, () => false)) {
      // Redis is away: nothing can be handed back, and BullMQ's graceful
      // close would wait for Redis to say goodbye. Jobs left running here
      // go to another worker through the stalled-job check.
      worker.cancelAllJobs(STOP.shutdown);
      await worker.close(true);
      return;
    }
    const closed = worker.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<"grace">((resolve) =>
      timer = setTimeout(() => resolve("grace"), graceMs)
    );
    if (await Promise.race([closed, grace]) === "grace") {
      worker.cancelAllJobs(STOP.shutdown);
    }
    clearTimeout(timer);
    await closed;
  };
  return {
    close(closeOptions = {}) {
      closing ??= close(closeOptions.graceMs ?? 10_000);
      return closing;
    },
  };
}
