/**
 * The iterator behind `JobQueue.updates`: snapshots of one job, coalesced,
 * until its final state; `return()` releases the subscription at once, even
 * while a `next()` is waiting.
 *
 * @module
 */
import { FINAL_STATES, type Job } from "./types.ts";

/** A change seen by a watcher: new progress only, or "read the job again". */
export type Change = { readonly progress: number } | null;

/** Options of {@linkcode followJob}. */
export interface FollowOptions<R> {
  /** Reads the job now (throws `JOB_NOT_FOUND`, `UNAVAILABLE`, …). */
  load(): Promise<Job<R>>;
  /** Subscribes to changes of the job; returns the unsubscribe function. */
  watch(onChange: (change: Change) => void): () => void;
  /**
   * Reads the job again after this long without a change (a safety net for
   * missed events); none when undefined.
   */
  pollMs?: number;
}

function sameSnapshot<R>(a: Job<R>, b: Job<R>): boolean {
  return a.state === b.state && a.progress === b.progress &&
    a.attempts === b.attempts && a.startedAt === b.startedAt;
}

/**
 * Follows a job through `load` and `watch` (see `JobQueue.updates`). The
 * consumer reads one snapshot at a time; progress never goes down.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Job } from "./types.ts";
 * // A job store in memory: `load` reads it, `watch` hears of changes.
 * let stored: Job<number> = {
 *   id: "V1StGXR8_Z5jdHi6B-myTw", state: "running", progress: 0.5,
 *   createdAt: 0, startedAt: 1, finishedAt: null, error: null,
 *   errorCode: null, result: null, attempts: 1, labels: [],
 * };
 * const listeners = new Set<(change: Change) => void>();
 * const watch = (onChange: (change: Change) => void) => {
 *   listeners.add(onChange);
 *   return () => listeners.delete(onChange);
 * };
 * const seen: string[] = [];
 * for await (const job of followJob({ load: async () => stored, watch, pollMs: 2000 })) {
 *   seen.push(`${job.state} ${job.progress}`);
 *   if (job.state === "running") {
 *     stored = { ...stored, state: "succeeded", progress: 1, result: 42 };
 *     for (const listener of listeners) listener(null); // "read it again"
 *   }
 * }
 * assert.deepEqual(seen, ["running 0.5", "succeeded 1"]);
 * assert.equal(listeners.size, 0); // released after the final state
 * ```
 */
export function followJob<R>(
  options: FollowOptions<R>,
): AsyncIterableIterator<Job<R>> {
  let last: Job<R> | undefined;
  let stale = true;
  let progressOnly: number | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  let unwatch: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const poke = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const release = () => {
    finished = true;
    clearInterval(timer);
    timer = undefined;
    unwatch?.();
    unwatch = undefined;
    poke();
  };
  const start = () => {
    unwatch = options.watch((change) => {
      if (change) progressOnly = Math.max(progressOnly ?? 0, change.progress);
      else stale = true;
      poke();
    });
    if (options.pollMs !== undefined) {
      timer = setInterval(() => {
        stale = true;
        poke();
      }, options.pollMs);
    }
  };
  const nextSnapshot = async (): Promise<Job<R> | undefined> => {
    while (!finished) {
      let job: Job<R> | undefined;
      // Taken before the read: progress arriving during it waits its turn.
      const progress = progressOnly;
      progressOnly = undefined;
      if (stale || (progress !== undefined && last?.state !== "running")) {
        stale = false;
        job = await options.load();
      } else if (progress !== undefined) {
        job = last;
      }
      if (finished) return undefined;
      if (job && progress !== undefined && job.state === "running") {
        job = { ...job, progress: Math.max(job.progress, progress) };
      }
      if (job) {
        if (last && job.progress < last.progress) {
          job = { ...job, progress: last.progress };
        }
        if (!last || !sameSnapshot(last, job)) {
          last = job;
          if (FINAL_STATES.has(job.state)) release();
          return job;
        }
        if (FINAL_STATES.has(job.state)) release();
        continue;
      }
      await new Promise<void>((resolve) => wake = resolve);
    }
    return undefined;
  };
  const iterator: AsyncIterableIterator<Job<R>> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      try {
        if (!unwatch) start();
        const job = await nextSnapshot();
        return job ? { done: false, value: job } : {
          done: true,
          value: undefined,
        };
      } catch (error) {
        release();
        throw error;
      }
    },
    return() {
      release();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
