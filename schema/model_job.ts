/**
 * Model work from resolvers: every call to the explanation service runs
 * under the request's scope and is counted by field and outcome. A request
 * whose client left, whose time ran out or that shutdown cancelled is
 * answered at once with its scope's error (`TIMEOUT`, `SHUTTING_DOWN`, …)
 * while the service stops the work at its next step.
 *
 * @module
 */
import { isClientError } from "../lib/mod.ts";
import type { LumenContext } from "./context.ts";

/** Outcomes recorded for codes that mean "refused before running". */
const REFUSED: Record<string, string> = {
  OVERLOADED: "overloaded",
  SHUTTING_DOWN: "refused",
};

/**
 * Settles like `promise`, or rejects with `scope.abortError()` as soon as
 * the scope's signal aborts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRequestScope } from "../server/request_scope.ts";
 * const client = new AbortController(); // the HTTP request's signal
 * const scope = createRequestScope({ requestSignal: client.signal, timeoutMs: 60_000 });
 * assert.equal(await untilScopeEnds(Promise.resolve(42), { scope }), 42);
 * const never = new Promise<number>(() => {}); // work that does not stop by itself
 * const waiting = untilScopeEnds(never, { scope });
 * client.abort(); // the client leaves: answered at once
 * await assert.rejects(waiting, { name: "AbortError", message: "The client disconnected" });
 * scope.dispose();
 * ```
 */
export function untilScopeEnds<T>(
  promise: Promise<T>,
  context: Pick<LumenContext, "scope">,
): Promise<T> {
  const { scope } = context;
  promise.catch(() => {});
  if (scope.signal.aborted) return Promise.reject(scope.abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(scope.abortError());
    scope.signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      scope.signal.removeEventListener("abort", onAbort)
    );
  });
}

/** Whose model work it is: the request and the GraphQL field it serves. */
export interface FieldJob {
  /** The request's context: its scope, service and metrics. */
  context: LumenContext;
  /** The GraphQL field, as `/metrics` labels it, e.g. `"predict"`. */
  field: string;
}

/**
 * Runs `work` (a call to the explanation service, given the request's
 * signal) for the GraphQL field `job.field`, recording its outcome in
 * `/metrics`. Rejects with the scope's error once the scope aborts.
 *
 * @example
 * ```ts ignore
 * // In a resolver: `context` holds the server's service (a loaded model).
 * const top = await modelJob({ context, field: "predict" }, (signal) =>
 *   context.lumen.service.predict({ model, image, top: 5 }, { signal }));
 * ```
 */
export async function modelJob<T>(
  job: FieldJob,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { context, field } = job;
  const { lumen, scope } = context;
  const start = performance.now();
  let outcome = "ok";
  try {
    return await untilScopeEnds(work(scope.signal), context);
  } catch (error) {
    if (scope.cause !== null) {
      outcome = scope.cause === "shutdown" ? "cancelled" : scope.cause;
      throw scope.abortError();
    }
    outcome = isClientError(error) && REFUSED[error.code]
      ? REFUSED[error.code]
      : "error";
    throw error;
  } finally {
    lumen.metrics.job(field, outcome, (performance.now() - start) / 1000);
  }
}
