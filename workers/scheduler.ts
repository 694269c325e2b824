/**
 * Admission and ordering of model work, by cost. Explanations are CPU or GPU
 * bound: running many at once only thrashes caches and multiplies memory,
 * so work runs on a fixed number of slots (one per model worker). Each slot
 * runs at most one expensive task and one cheap task at a time: cheap work
 * (a Grad-CAM, a prediction) interleaves with an expensive one (occlusion,
 * Score-CAM) between its batches instead of waiting behind it, and never
 * takes an expensive task's place. Each lane has its own bounded FIFO
 * queue; past its bound a task is refused at once ({@linkcode QueueFullError})
 * instead of slowing everyone down.
 *
 * A waiting task whose signal aborts leaves the queue without running. A
 * running task keeps its place until it settles.
 *
 * Generic: nothing here knows about models or GraphQL.
 *
 * @module
 */

/** The two lanes: cheap work never waits behind expensive work. */
export type Lane = "light" | "heavy";

/** Options of {@linkcode createScheduler}. */
export interface SchedulerOptions {
  /** Slots (workers). @default 1 */
  slots?: number;
  /** Tasks waiting in each lane; one more is refused. @default 16 */
  maxQueued?: number;
  /** Tasks costing at most this run in the light lane. @default 8 */
  lightCost?: number;
  /** Called as each task starts, with its lane and the milliseconds it waited. */
  onStart?: (lane: Lane, waitedMs: number) => void;
  /** @default performance.now */
  now?: () => number;
}

/** Counts since the scheduler was created. */
export interface SchedulerStats {
  /** Tasks started. */
  started: number;
  /** Tasks settled after starting. */
  finished: number;
  /** Tasks refused because their lane's queue was full. */
  rejected: number;
  /** Tasks that left a queue unstarted because their signal aborted. */
  dropped: number;
}

/** Options of {@linkcode Scheduler.run}. */
export interface ScheduleOptions {
  /** Aborting drops the task if it still waits; a running task sees it too. */
  signal?: AbortSignal | undefined;
}

/** Runs tasks on slots, cheap and expensive ones in separate lanes. */
export interface Scheduler {
  readonly slots: number;
  readonly maxQueued: number;
  /** The lane a task of this cost goes to. */
  laneOf(cost: number): Lane;
  /** Tasks running now (per lane). */
  running(lane?: Lane): number;
  /** Tasks waiting now (per lane). */
  queued(lane?: Lane): number;
  /** Whether a task of this cost submitted now would be refused. */
  full(cost: number): boolean;
  readonly stats: Readonly<SchedulerStats>;
  /**
   * Runs `task` on a free slot, passing the slot's index and the task's
   * signal (one that never aborts when none was given). Rejects at once
   * with {@linkcode QueueFullError} when its lane's queue is full, and with
   * the signal's reason when it aborts before the task starts.
   */
  run<T>(
    cost: number,
    task: (slot: number, signal: AbortSignal) => Promise<T> | T,
    options?: ScheduleOptions,
  ): Promise<T>;
  /** Resolves once nothing runs or waits. */
  idle(): Promise<void>;
}

/** Thrown by {@linkcode Scheduler.run} when the task's lane is full. */
export class QueueFullError extends Error {
  override name = "QueueFullError";
  readonly lane: Lane;
  /** The scheduler's `maxQueued`. */
  readonly maxQueued: number;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * assert.equal(new QueueFullError("heavy", 16).message, "Queue is full: 16 heavy tasks are waiting");
   * ```
   */
  constructor(lane: Lane, maxQueued: number) {
    super(`Queue is full: ${maxQueued} ${lane} tasks are waiting`);
    this.lane = lane;
    this.maxQueued = maxQueued;
  }
}

interface Waiter {
  lane: Lane;
  start: (slot: number, capacity: Lane) => void;
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Invalid ${name} ${value}: use an integer of at least ${min}`,
    );
  }
  return value;
}

const NEVER = new AbortController().signal;

/**
 * Creates a scheduler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const scheduler = createScheduler({ slots: 1, maxQueued: 16 });
 * const request = new Request("http://localhost/graphql"); // its signal aborts when the client leaves
 * const result = await scheduler.run(169, async (slot, signal) => {
 *   signal.throwIfAborted();
 *   return slot + 42;
 * }, { signal: request.signal });
 * assert.equal(result, 42); // on slot 0
 * assert.equal(scheduler.laneOf(169), "heavy"); // more than lightCost (8) passes
 * assert.deepEqual(scheduler.stats, { started: 1, finished: 1, rejected: 0, dropped: 0 });
 * ```
 */
export function createScheduler(options: SchedulerOptions = {}): Scheduler {
  const slots = checkCount("slots", options.slots ?? 1, 1);
  const maxQueued = checkCount("maxQueued", options.maxQueued ?? 16, 0);
  const lightCost = options.lightCost ?? 8;
  const now = options.now ?? (() => performance.now());
  /** Per slot, whether its light and heavy capacities are taken. */
  const busy = Array.from({ length: slots }, () => ({
    light: false,
    heavy: false,
  }));
  const waiting: Record<Lane, Waiter[]> = { light: [], heavy: [] };
  const runningBy: Record<Lane, number> = { light: 0, heavy: 0 };
  const stats: SchedulerStats = {
    started: 0,
    finished: 0,
    rejected: 0,
    dropped: 0,
  };
  let idleWaiters: (() => void)[] = [];

  const laneOf = (cost: number): Lane => cost <= lightCost ? "light" : "heavy";
  /** A slot whose capacity for `lane` is free. */
  const freeCapacity = (lane: Lane): [number, Lane] | null => {
    const slot = busy.findIndex((b) => !b[lane]);
    return slot >= 0 ? [slot, lane] : null;
  };
  const total = (counts: Record<Lane, number>) => counts.light + counts.heavy;
  const settleIdle = () => {
    if (total(runningBy) > 0 || waiting.light.length + waiting.heavy.length) {
      return;
    }
    const resolve = idleWaiters;
    idleWaiters = [];
    for (const r of resolve) r();
  };
  const dispatch = () => {
    for (const lane of ["light", "heavy"] as const) {
      while (waiting[lane].length > 0) {
        const free = freeCapacity(lane);
        if (!free) break;
        waiting[lane].shift()!.start(...free);
      }
    }
    settleIdle();
  };

  return {
    slots,
    maxQueued,
    laneOf,
    running: (lane) => lane ? runningBy[lane] : total(runningBy),
    queued: (lane) =>
      lane ? waiting[lane].length : waiting.light.length + waiting.heavy.length,
    full(cost) {
      const lane = laneOf(cost);
      return !freeCapacity(lane) && waiting[lane].length >= maxQueued;
    },
    stats,
    run<T>(
      cost: number,
      task: (slot: number, signal: AbortSignal) => Promise<T> | T,
      runOptions: ScheduleOptions = {},
    ): Promise<T> {
      const signal = runOptions.signal ?? NEVER;
      if (signal.aborted) return Promise.reject(signal.reason);
      const lane = laneOf(cost);
      const free = waiting[lane].length === 0 ? freeCapacity(lane) : null;
      if (!free && waiting[lane].length >= maxQueued) {
        stats.rejected++;
        return Promise.reject(new QueueFullError(lane, maxQueued));
      }
      return new Promise<T>((resolve, reject) => {
        const enqueuedAt = now();
        const onAbort = () => {
          const index = waiting[lane].indexOf(waiter);
          if (index < 0) return;
          waiting[lane].splice(index, 1);
          stats.dropped++;
          reject(signal.reason);
          settleIdle();
        };
        const waiter: Waiter = {
          lane,
          start(slot, capacity) {
            signal.removeEventListener("abort", onAbort);
            busy[slot][capacity] = true;
            runningBy[lane]++;
            stats.started++;
            options.onStart?.(lane, now() - enqueuedAt);
            let result: Promise<T>;
            try {
              result = Promise.resolve(task(slot, signal));
            } catch (error) {
              result = Promise.reject(error);
            }
            // The capacity is free before the caller hears of the result.
            const done = () => {
              busy[slot][capacity] = false;
              runningBy[lane]--;
              stats.finished++;
              dispatch();
            };
            result.then((value) => {
              done();
              resolve(value);
            }, (error) => {
              done();
              reject(error);
            });
          },
        };
        if (free) {
          waiter.start(...free);
        } else {
          waiting[lane].push(waiter);
          signal.addEventListener("abort", onAbort, { once: true });
        }
      });
    },
    idle() {
      if (
        total(runningBy) + waiting.light.length + waiting.heavy.length === 0
      ) {
        return Promise.resolve();
      }
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it
 * aborts (the work behind `promise` stops at its own next check).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const client = new AbortController(); // request.signal
 * assert.equal(await untilAborted(Promise.resolve(42), client.signal), 42);
 * const work = new Promise<number>(() => {}); // stops at its own next check
 * const waiting = untilAborted(work, client.signal);
 * client.abort(new DOMException("The client disconnected", "AbortError"));
 * await assert.rejects(waiting, { name: "AbortError" }); // at once
 * ```
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
