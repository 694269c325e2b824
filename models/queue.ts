/**
 * The one bounded queue that model work runs through. Explanations are CPU
 * or GPU bound: running many at once only thrashes caches and multiplies
 * memory, so at most `concurrency` tasks run and at most `maxQueued` wait;
 * past that, {@linkcode WorkQueue.run} refuses at once with a
 * {@linkcode QueueFullError} instead of slowing everyone down.
 *
 * A waiting task whose signal aborts (its client went away, its time ran
 * out) leaves the queue without ever running. A running task keeps its slot
 * until it settles, so the concurrency bound holds for work that cannot be
 * interrupted.
 *
 * Generic: nothing here knows about models or GraphQL.
 *
 * @module
 */

/** Options of {@linkcode createWorkQueue}. */
export interface WorkQueueOptions {
  /** Tasks running at once. @default 1 */
  concurrency?: number;
  /** Tasks waiting for a slot; one more is refused. @default 16 */
  maxQueued?: number;
  /** Called as each task starts, with the milliseconds it waited. */
  onStart?: (waitedMs: number) => void;
  /** @default performance.now */
  now?: () => number;
}

/** Counts since the queue was created. */
export interface WorkQueueStats {
  /** Tasks started. */
  started: number;
  /** Tasks settled after starting (fulfilled or rejected). */
  finished: number;
  /** Tasks refused because the queue was full. */
  rejected: number;
  /** Tasks that left the queue unstarted because their signal aborted. */
  dropped: number;
}

/** Options of {@linkcode WorkQueue.run}. */
export interface RunTaskOptions {
  /** Aborting it drops the task if it is still waiting; a running task sees it too. */
  signal?: AbortSignal;
}

/** A bounded FIFO of async tasks. */
export interface WorkQueue {
  /** Most tasks running at once. */
  readonly concurrency: number;
  /** Most tasks waiting. */
  readonly maxQueued: number;
  /** Tasks running now. */
  readonly running: number;
  /** Tasks waiting now. */
  readonly queued: number;
  /** Whether a task submitted now would be refused. */
  readonly full: boolean;
  readonly stats: Readonly<WorkQueueStats>;
  /**
   * Runs `task` when a slot is free, passing it the task's signal (a signal
   * that never aborts when none was given). Rejects with
   * {@linkcode QueueFullError} at once when `maxQueued` tasks already wait,
   * and with the signal's reason when it aborts before the task starts.
   */
  run<T>(
    task: (signal: AbortSignal) => Promise<T> | T,
    options?: RunTaskOptions,
  ): Promise<T>;
  /** Resolves once nothing runs or waits. */
  idle(): Promise<void>;
}

/** Thrown by {@linkcode WorkQueue.run} when the queue is full. */
export class QueueFullError extends Error {
  override name = "QueueFullError";
  /** The queue's `maxQueued`. */
  readonly maxQueued: number;

  /**
   * @example
   * ```ts
   * new QueueFullError(16).message; // "Queue is full: 16 tasks are waiting"
   * ```
   */
  constructor(maxQueued: number) {
    super(`Queue is full: ${maxQueued} tasks are waiting`);
    this.maxQueued = maxQueued;
  }
}

interface Waiter {
  start: () => void;
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
 * Creates a queue running at most `concurrency` tasks, with at most
 * `maxQueued` more waiting in order.
 *
 * @example
 * ```ts
 * const queue = createWorkQueue({ concurrency: 1, maxQueued: 16 });
 * const result = await queue.run(async (signal) => {
 *   signal.throwIfAborted();
 *   return 42;
 * }, { signal: request.signal });
 * ```
 */
export function createWorkQueue(options: WorkQueueOptions = {}): WorkQueue {
  const concurrency = checkCount("concurrency", options.concurrency ?? 1, 1);
  const maxQueued = checkCount("maxQueued", options.maxQueued ?? 16, 0);
  const now = options.now ?? (() => performance.now());
  const waiting: Waiter[] = [];
  const stats: WorkQueueStats = {
    started: 0,
    finished: 0,
    rejected: 0,
    dropped: 0,
  };
  let running = 0;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (running > 0 || waiting.length > 0) return;
    const resolve = idleWaiters;
    idleWaiters = [];
    for (const r of resolve) r();
  };
  const next = () => {
    while (running < concurrency && waiting.length > 0) {
      waiting.shift()!.start();
    }
    settleIdle();
  };

  return {
    concurrency,
    maxQueued,
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
    get full() {
      return running >= concurrency && waiting.length >= maxQueued;
    },
    stats,
    run<T>(
      task: (signal: AbortSignal) => Promise<T> | T,
      runOptions: RunTaskOptions = {},
    ): Promise<T> {
      const signal = runOptions.signal ?? NEVER;
      if (signal.aborted) return Promise.reject(signal.reason);
      const free = running < concurrency && waiting.length === 0;
      if (!free && waiting.length >= maxQueued) {
        stats.rejected++;
        return Promise.reject(new QueueFullError(maxQueued));
      }
      return new Promise<T>((resolve, reject) => {
        const enqueuedAt = now();
        const onAbort = () => {
          const index = waiting.indexOf(waiter);
          if (index < 0) return;
          waiting.splice(index, 1);
          stats.dropped++;
          reject(signal.reason);
          settleIdle();
        };
        const waiter: Waiter = {
          start() {
            signal.removeEventListener("abort", onAbort);
            running++;
            stats.started++;
            options.onStart?.(now() - enqueuedAt);
            let result: Promise<T>;
            try {
              result = Promise.resolve(task(signal));
            } catch (error) {
              result = Promise.reject(error);
            }
            // The slot is free before the caller hears of the result.
            const done = () => {
              running--;
              stats.finished++;
              next();
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
          waiter.start();
        } else {
          waiting.push(waiter);
          signal.addEventListener("abort", onAbort, { once: true });
        }
      });
    },
    idle() {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
