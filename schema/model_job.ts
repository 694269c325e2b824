/**
 * Model work from resolvers, through the app's one bounded queue: a full
 * queue answers `OVERLOADED` (HTTP 503 + `Retry-After`) at once, a request
 * whose client left is dropped from the queue unstarted, and a request past
 * its time limit is answered `TIMEOUT` at once while its work stops at the
 * next step it can stop at (a model pass is atomic) and frees its tensors.
 *
 * @module
 */
import { clientError } from "../lib/errors.ts";
import { QueueFullError } from "../models/mod.ts";
import type { LumenContext, RequestScope } from "./context.ts";

/** The `OVERLOADED` error: HTTP 503 with `Retry-After: 1`. */
function overloaded(maxQueued: number): Error {
  return clientError(
    "OVERLOADED",
    `The server is busy: ${maxQueued} requests are already waiting; retry in a moment`,
    { http: { status: 503, headers: { "Retry-After": "1" } } },
  );
}

/** The `SHUTTING_DOWN` error for work submitted during shutdown. */
function shuttingDown(): Error {
  return clientError(
    "SHUTTING_DOWN",
    "The server is shutting down: retry in a moment",
    { http: { status: 503, headers: { "Retry-After": "1" } } },
  );
}

/**
 * Settles like `promise`, or rejects with `scope.abortError()` as soon as
 * the scope's signal aborts.
 *
 * @example
 * ```ts
 * const first = await untilAborted(ready, context.scope);
 * ```
 */
export function untilAborted<T>(
  promise: Promise<T>,
  scope: RequestScope,
): Promise<T> {
  if (scope.signal.aborted) return Promise.reject(scope.abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(scope.abortError());
    scope.signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      scope.signal.removeEventListener("abort", onAbort)
    );
  });
}

/**
 * Refuses before slow preparation (fetching a URL) rather than after it:
 * throws `OVERLOADED` or `SHUTTING_DOWN` when a job submitted now would be
 * refused.
 *
 * @example
 * ```ts
 * refuseEarly(context, "explain"); // before downloading an image
 * ```
 */
export function refuseEarly(context: LumenContext, field: string): void {
  const { lumen } = context;
  if (lumen.stopping()) {
    lumen.metrics.job(field, "refused", 0);
    throw shuttingDown();
  }
  if (lumen.queue.full) {
    lumen.metrics.job(field, "overloaded", 0);
    throw overloaded(lumen.queue.maxQueued);
  }
}

/**
 * Runs `work` through the queue for the GraphQL field `field` (for
 * metrics). `work` gets the request's signal: it should check it between
 * steps and pass it to explainers. The promise settles with `work`'s
 * result, or rejects with `OVERLOADED`, `SHUTTING_DOWN`, `TIMEOUT` (at once
 * when the time limit passes) or an abort error (the client left).
 *
 * @example
 * ```ts
 * const pass = await modelJob(context, "predict", (signal) => {
 *   signal.throwIfAborted();
 *   return runtime.run(input);
 * });
 * ```
 */
export async function modelJob<T>(
  context: LumenContext,
  field: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { lumen, scope } = context;
  if (lumen.stopping()) {
    lumen.metrics.job(field, "refused", 0);
    throw shuttingDown();
  }
  const start = performance.now();
  let outcome = "ok";
  try {
    const job = lumen.queue.run(work, { signal: scope.signal });
    // Abandoned by the race below, the job still settles: nobody waits.
    job.catch(() => {});
    return await untilAborted(job, scope);
  } catch (error) {
    if (error instanceof QueueFullError) {
      outcome = "overloaded";
      throw overloaded(error.maxQueued);
    }
    outcome = scope.cause === null
      ? "error"
      : scope.cause === "shutdown"
      ? "cancelled"
      : scope.cause;
    if (scope.cause !== null) throw scope.abortError();
    throw error;
  } finally {
    lumen.metrics.job(field, outcome, (performance.now() - start) / 1000);
  }
}
