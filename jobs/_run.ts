/**
 * One attempt of a runner: its signal aborts on an outside stop or at the
 * time limit, and the attempt ends at once then, without waiting for the
 * runner. Shared by both backends' workers.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";
import { type Failure, failureOf } from "./_errors.ts";
import type { JobRunner } from "./types.ts";

/**
 * Reasons an attempt is stopped from outside (strings, as BullMQ's
 * `Worker.cancelJob` passes them to the processor's signal).
 */
export const STOP = {
  /** The user cancelled the job. */
  cancel: "cancel",
  /** The worker is shutting down and its grace period is over. */
  shutdown: "shutdown",
  /** The worker lost the job's Redis lock: another worker will run it. */
  lockLost: "lock-lost",
} as const;

/** How an attempt ended. */
export type Outcome<R> =
  | { readonly kind: "succeeded"; readonly result: R }
  | {
    readonly kind: "failed";
    readonly failure: Failure;
    /** The runner's own error, for the log (absent on timeout). */
    readonly cause?: unknown;
  }
  /** Stopped from outside; `reason` is the outside signal's reason. */
  | { readonly kind: "stopped"; readonly reason: unknown };

/** Options of {@linkcode runAttempt}. */
export interface AttemptOptions {
  /** The job's id, passed to the runner. */
  jobId: string;
  /** Aborts the attempt from outside (cancel, shutdown, lock lost). */
  stop: AbortSignal;
  /** The attempt's time limit; past it the outcome is a `TIMEOUT` failure. */
  timeoutMs: number;
  /** Receives the runner's progress reports. */
  onProgress(fraction: number): void;
}

/** The `TIMEOUT` error a runner's signal aborts with. */
function timeoutError(ms: number): Error {
  return clientError(
    "TIMEOUT",
    `The job ran longer than its limit of ${ms} ms and was stopped`,
  );
}

/**
 * Runs `runner` once and says how it ended. Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const controller = new AbortController(); // aborts with a STOP reason
 * const progress: number[] = [];
 * const outcome = await runAttempt(async (n: number, hooks) => {
 *   hooks.onProgress(1);
 *   return n * 2;
 * }, 21, {
 *   jobId: "job-1",
 *   stop: controller.signal,
 *   timeoutMs: 900_000,
 *   onProgress: (p) => progress.push(p),
 * });
 * assert.deepEqual(outcome, { kind: "succeeded", result: 42 });
 * assert.deepEqual(progress, [1]);
 * controller.abort(STOP.cancel);
 * const stopped = await runAttempt(async () => 0, 0, {
 *   jobId: "job-2", stop: controller.signal, timeoutMs: 1_000, onProgress: () => {},
 * });
 * assert.deepEqual(stopped, { kind: "stopped", reason: "cancel" });
 * ```
 */
export async function runAttempt<P, R>(
  runner: JobRunner<P, R>,
  payload: P,
  options: AttemptOptions,
): Promise<Outcome<R>> {
  const { stop, timeoutMs } = options;
  if (stop.aborted) return { kind: "stopped", reason: stop.reason };
  const controller = new AbortController();
  let timedOut = false;
  const onStop = () => controller.abort(stop.reason);
  stop.addEventListener("abort", onStop, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(timeoutError(timeoutMs));
  }, timeoutMs);
  let removeAbortListener = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(controller.signal.reason);
    controller.signal.addEventListener("abort", onAbort, { once: true });
    removeAbortListener = () =>
      controller.signal.removeEventListener("abort", onAbort);
  });
  // The race loser must not become an unhandled rejection.
  aborted.catch(() => {});
  const work = Promise.resolve().then(() =>
    runner(payload, {
      id: options.jobId,
      signal: controller.signal,
      onProgress: options.onProgress,
    })
  );
  work.catch(() => {});
  const ended = (): Outcome<R> =>
    timedOut
      ? { kind: "failed", failure: failureOf(controller.signal.reason) }
      : { kind: "stopped", reason: controller.signal.reason };
  try {
    const result = await Promise.race([work, aborted]);
    // A runner that ignored its signal and finished anyway is still stopped.
    return controller.signal.aborted ? ended() : { kind: "succeeded", result };
  } catch (error) {
    return controller.signal.aborted
      ? ended()
      : { kind: "failed", failure: failureOf(error), cause: error };
  } finally {
    clearTimeout(timer);
    removeAbortListener();
    stop.removeEventListener("abort", onStop);
  }
}
