/**
 * The Redis backend, through BullMQ: any number of API replicas and worker
 * processes share one queue and result store. Progress reaches every
 * replica through BullMQ's event stream (`QueueEvents`); a worker that dies
 * mid-job leaves the job to BullMQ's stalled-job check, which gives it to
 * another worker at most `maxStalledCount` times.
 *
 * @module
 */
import { Queue, QueueEvents, QueueEventsProducer } from "bullmq";
import type { Logger } from "../lib/mod.ts";
import {
  closedError,
  jobNotFound,
  overloaded,
  unavailable,
} from "./_errors.ts";
import { type Change, followJob } from "./_follow.ts";
import { isJobId, newJobId } from "./_ids.ts";
import {
  blockingConnection,
  commandConnection,
  guardOf,
  type RedisCommands,
  throttled,
} from "./_redis_connection.ts";
import { type JobData, snapshotOf } from "./_redis_job.ts";
import {
  CANCEL_EVENT,
  type LumenQueueEvents,
  startRedisWorker,
} from "./_redis_worker.ts";
import { durationsOf, totalsFields, totalsFromHash } from "./_stats.ts";
import {
  DEFAULT_TTL_MS,
  FINAL_STATES,
  type Job,
  type JobQueue,
  type JobStats,
  type JobWorker,
  type StartOptions,
  type WorkerOptions,
} from "./types.ts";

/** Options of {@linkcode redisJobs}. */
export interface RedisJobsOptions {
  /**
   * The BullMQ queue name; every replica and worker of a fleet uses the same.
   * @default "lumen-jobs"
   */
  queueName?: string;
  /**
   * The prefix of every Redis key.
   * @default "lumen"
   */
  prefix?: string;
  /**
   * Queued jobs allowed across the fleet; `start` answers `OVERLOADED`
   * beyond (checked before adding, so replicas racing may pass it by a few).
   * @default 100
   */
  queueLimit?: number;
  /**
   * How long a finished job and its result are kept.
   * @default 3_600_000 (1 h)
   */
  ttlMs?: number;
  /**
   * The `Retry-After` of `OVERLOADED`, seconds.
   * @default 10
   */
  retryAfterS?: number;
  /**
   * The longest an API call waits for Redis before `UNAVAILABLE`.
   * @default 1_000
   */
  operationTimeoutMs?: number;
  /**
   * `updates` reads the job again after this long without an event.
   * @default 2_000
   */
  pollMs?: number;
  /**
   * How long `cancel` waits for a running job's worker to confirm.
   * @default 2_000
   */
  cancelWaitMs?: number;
  /**
   * Workers: how long a job's lock lasts without renewal (renewed every
   * half of it); a dead worker's job is retried after about this long.
   * @default 30_000
   */
  lockDurationMs?: number;
  /**
   * Workers: how often they look for jobs whose worker died.
   * @default 30_000
   */
  stalledIntervalMs?: number;
  /**
   * Workers: times a job is retried after its worker died; one more death
   * fails it with `WORKER_LOST`.
   * @default 1
   */
  maxStalledCount?: number;
  /**
   * Workers: least time between two progress writes of one job.
   * @default 250
   */
  progressIntervalMs?: number;
  /**
   * Where errors are logged (Redis errors at most every 5 s).
   * @default no logging
   */
  log?: Logger;
}

type PerJobEvents = LumenQueueEvents & {
  [event: `${string}:${string}`]: (
    args: { jobId: string; data?: unknown },
    id: string,
  ) => void;
};

/** Events after which a follower reads the job again. */
const STATE_EVENTS = [
  "active",
  "waiting",
  "completed",
  "failed",
  "removed",
  "stalled",
] as const;

/**
 * A job queue on Redis (BullMQ). Each API replica and each worker process
 * makes one with the same `url` and options; workers call `runWorker`.
 * Redis away: calls answer `UNAVAILABLE` within `operationTimeoutMs`,
 * workers wait, and both carry on when it is back.
 *
 * @example
 * ```ts ignore
 * // Needs Redis (tests/jobs start a redis-server on a free port).
 * const jobs = redisJobs<{ n: number }, number>("redis://127.0.0.1:6379");
 * const { id } = await jobs.start({ n: 21 }, { labels: ["double"] });
 * // In a worker process:
 * const worker = redisJobs<{ n: number }, number>("redis://127.0.0.1:6379")
 *   .runWorker({ runner: async ({ n }) => n * 2 });
 * ```
 */
export function redisJobs<P, R>(
  url: string,
  options: RedisJobsOptions = {},
): JobQueue<P, R> {
  const name = options.queueName ?? "lumen-jobs";
  const prefix = options.prefix ?? "lumen";
  const queueLimit = options.queueLimit ?? 100;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const retryAfterS = options.retryAfterS ?? 10;
  const timeoutMs = options.operationTimeoutMs ?? 1_000;
  const log = options.log ?? (() => {});
  const keepFor = { age: Math.ceil(ttlMs / 1_000) };

  const queue = new Queue<JobData<P>, R>(name, {
    connection: commandConnection(url, timeoutMs),
    prefix,
  });
  queue.on("error", throttled(log, "job queue error"));
  const producer = new QueueEventsProducer(name, {
    connection: commandConnection(url, timeoutMs),
    prefix,
  });
  producer.on("error", throttled(log, "job events producer error"));
  const events = new QueueEvents(name, {
    connection: blockingConnection(url),
    prefix,
  });
  events.on("error", throttled(log, "job events error"));
  events.setMaxListeners(0);
  const guard = guardOf(queue, timeoutMs);
  /** A cancelled queued job, removed from the queue: its last snapshot. */
  const cancelledKey = (id: string) => queue.toKey(`lumen:cancelled:${id}`);
  /** Set when a running job's cancel was asked for (read by workers). */
  const cancelKey = (id: string) => queue.toKey(`lumen:cancel:${id}`);
  const totalsKey = queue.toKey("lumen:totals");
  const workers = new Set<JobWorker>();
  /** Open `updates` iterators, woken on close so that they end at once. */
  const followers = new Set<(change: Change) => void>();
  let closed = false;

  const load = async (id: string): Promise<Job<R>> => {
    if (closed) throw closedError();
    if (!isJobId(id)) throw jobNotFound(id);
    const job = await guard.run(async (redis) => {
      // State first: the job read after it is as new or newer, so a job
      // seen "active" has its start time, a "completed" one its result.
      const state = await queue.getJobState(id);
      const found = await queue.getJob(id);
      const snapshot = found && snapshotOf(found, state);
      if (snapshot) return snapshot;
      const record = await redis.get(cancelledKey(id));
      return record ? JSON.parse(record) as Job<R> : undefined;
    });
    // BullMQ removes finished jobs past their age lazily: hide them now.
    if (
      !job || (job.finishedAt !== null && job.finishedAt + ttlMs <= Date.now())
    ) {
      throw jobNotFound(id);
    }
    return job;
  };

  const updates = (id: string) =>
    followJob<R>({
      load: () => load(id),
      watch(onChange) {
        const onProgress = ({ data }: { data?: unknown }) =>
          onChange(typeof data === "number" ? { progress: data } : null);
        const onState = () => onChange(null);
        followers.add(onChange);
        events.on<PerJobEvents>(`progress:${id}`, onProgress);
        for (const event of STATE_EVENTS) {
          events.on<PerJobEvents>(`${event}:${id}`, onState);
        }
        return () => {
          followers.delete(onChange);
          events.off<PerJobEvents>(`progress:${id}`, onProgress);
          for (const event of STATE_EVENTS) {
            events.off<PerJobEvents>(`${event}:${id}`, onState);
          }
        };
      },
      pollMs: options.pollMs ?? 2_000,
    });

  /** Follows a job until it ends or `ms` pass; the last snapshot seen. */
  const settle = async (first: Job<R>, ms: number): Promise<Job<R>> => {
    const iterator = updates(first.id);
    const timer = setTimeout(() => iterator.return!(), ms);
    let last = first;
    try {
      for await (const job of iterator) last = job;
    } finally {
      clearTimeout(timer);
    }
    return last;
  };

  return {
    async start(payload: P, startOptions: StartOptions = {}) {
      if (closed) throw closedError();
      const labels = [...(startOptions.labels ?? [])];
      const job = await guard.run(async () => {
        const counts = await queue.getJobCounts(
          "waiting",
          "prioritized",
          "delayed",
          "paused",
        );
        const depth = Object.values(counts).reduce((a, b) => a + b, 0);
        if (depth >= queueLimit) throw overloaded(queueLimit, retryAfterS);
        return await queue.add("job", { payload, labels }, {
          jobId: newJobId(),
          attempts: 1,
          removeOnComplete: keepFor,
          removeOnFail: keepFor,
        });
      });
      return snapshotOf(job, "waiting")!;
    },

    get: load,

    async cancel(id: string) {
      const current = await load(id);
      if (FINAL_STATES.has(current.state)) return current;
      if (current.state === "queued") {
        const cancelled: Job<R> = {
          ...current,
          state: "cancelled",
          finishedAt: Date.now(),
          error: "The job was cancelled",
          errorCode: "CANCELLED",
        };
        const removed = await guard.run(async (redis) => {
          // Written first, so that a reader never finds the job missing.
          await redis.set(
            cancelledKey(id),
            JSON.stringify(cancelled),
            "PX",
            ttlMs,
          );
          if (await queue.remove(id) === 1) return true;
          await redis.del(cancelledKey(id));
          return false;
        });
        if (removed) {
          const { counts } = totalsFields({
            state: "cancelled",
            labels: current.labels,
            seconds: 0,
          });
          await guard.run((redis) => redis.hincrby(totalsKey, counts[0], 1))
            .catch((error) => log("warn", "job totals not updated", { error }));
          return cancelled;
        }
      }
      // Running (or taken by a worker just now): the worker holding it
      // reads the event and aborts its runner.
      await guard.run(async (redis) => {
        await redis.set(cancelKey(id), "1", "PX", ttlMs);
        await producer.publishEvent(
          { eventName: CANCEL_EVENT, jobId: id },
          10_000,
        );
      });
      return await settle(current, options.cancelWaitMs ?? 2_000);
    },

    updates,

    async stats(): Promise<JobStats> {
      if (closed) throw closedError();
      return await guard.run(async (redis) => {
        const [counts, hash, workerCount] = await Promise.all([
          queue.getJobCounts(
            "waiting",
            "prioritized",
            "delayed",
            "paused",
            "waiting-children",
            "active",
          ),
          redis.hgetall(totalsKey),
          queue.getWorkersCount(),
        ]);
        const totals = totalsFromHash(hash);
        return {
          queued: counts.waiting + counts.prioritized + counts.delayed +
            counts.paused + counts["waiting-children"],
          running: counts.active,
          finished: totals.finished,
          durations: durationsOf(totals),
          workers: workerCount,
        };
      });
    },

    async ping() {
      if (closed) throw closedError();
      const answer = await guard.run((redis) => redis.ping());
      if (answer !== "PONG") throw unavailable(new Error(String(answer)));
    },

    runWorker(workerOptions: WorkerOptions<P, R>): JobWorker {
      if (closed) throw closedError();
      const worker = startRedisWorker({
        queue,
        events,
        connection: blockingConnection(url),
        prefix,
        totalsKey,
        cancelKey,
        ttlMs,
        lockDurationMs: options.lockDurationMs ?? 30_000,
        stalledIntervalMs: options.stalledIntervalMs ?? 30_000,
        maxStalledCount: options.maxStalledCount ?? 1,
        progressIntervalMs: options.progressIntervalMs ?? 250,
        commands: () => guard.run((redis) => Promise.resolve(redis)),
        log,
      }, workerOptions);
      const handle: JobWorker = {
        async close(closeOptions) {
          await worker.close(closeOptions);
          workers.delete(handle);
        },
      };
      workers.add(handle);
      return handle;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...workers].map((w) => w.close({ graceMs: 0 })));
      // Their next read answers SHUTTING_DOWN, which ends them.
      for (const onChange of [...followers]) onChange(null);
      await events.close().catch(() => {});
      for (const part of [producer, queue]) {
        // With Redis away, QUIT cannot be sent: drop the socket instead, or
        // ioredis would go on reconnecting with no one listening.
        await part.close().catch(async () =>
          (await (part.client as Promise<unknown> as Promise<RedisCommands>))
            .disconnect()
        );
      }
    },
  };
}
