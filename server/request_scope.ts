/**
 * One HTTP request's scope: its id (echoed as `x-request-id`), and one
 * signal that aborts when its work should stop — the client disconnected,
 * its time limit passed, shutdown cancelled work, or the response is
 * complete — with the client error each cause answers.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";
import type { AbortCause, RequestScope } from "../schema/mod.ts";

/** Options of {@linkcode createRequestScope}. */
export interface RequestScopeOptions {
  /** The request id; @default a random UUID */
  id?: string;
  /** The HTTP request's signal: aborts when the client disconnects. */
  requestSignal?: AbortSignal;
  /** Time limit from now, ms. */
  timeoutMs: number;
  /** Aborts when shutdown cancels in-flight work. */
  cancelSignal?: AbortSignal;
}

/** A scope its owner ends. */
export interface OwnedRequestScope extends RequestScope {
  /** Ends the scope: clears the timer, aborts leftover work (`done`). */
  dispose(): void;
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id to use: the client's `x-request-id` when it is 1 to 128
 * characters of `A-Z a-z 0-9 . _ : -`, else a fresh UUID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(requestIdFrom(new Headers({ "x-request-id": "abc-1" })), "abc-1");
 * const fresh = requestIdFrom(new Headers({ "x-request-id": "a b" })); // not allowed: a new one
 * assert.match(fresh, /^[0-9a-f]{8}-[0-9a-f]{4}-/); // e.g. "3b241101-e2bb-4255-8caf-4136c566a962"
 * ```
 */
export function requestIdFrom(headers: Headers): string {
  const given = headers.get("x-request-id");
  return given !== null && ID.test(given) ? given : crypto.randomUUID();
}

/** The answer for work abandoned for `cause`. */
function causeError(cause: AbortCause, timeoutMs: number): Error {
  switch (cause) {
    case "timeout":
      return clientError(
        "TIMEOUT",
        `The request took longer than ${
          timeoutMs / 1000
        } s: its work was abandoned`,
        { limit: timeoutMs },
      );
    case "shutdown":
      return clientError(
        "SHUTTING_DOWN",
        "The server is shutting down: retry in a moment",
      );
    case "disconnected":
      return new DOMException("The client disconnected", "AbortError");
    case "done":
      return new DOMException("The response is complete", "AbortError");
  }
}

/**
 * Creates a request scope; its owner calls `dispose()` once the response is
 * complete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const request = new Request("http://localhost/graphql", { headers: { "x-request-id": "abc-1" } });
 * const scope = createRequestScope({
 *   id: requestIdFrom(request.headers),
 *   requestSignal: request.signal,
 *   timeoutMs: 60_000,
 * });
 * try {
 *   assert.equal(scope.id, "abc-1");
 *   assert.equal(scope.signal.aborted, false); // the work runs under scope.signal
 * } finally {
 *   scope.dispose();
 * }
 * assert.equal(scope.cause, "done"); // leftover work stops
 * const late = createRequestScope({ timeoutMs: 0 });
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * assert.equal(late.cause, "timeout");
 * assert.throws(() => {
 *   throw late.abortError();
 * }, { code: "TIMEOUT" });
 * late.dispose();
 * ```
 */
export function createRequestScope(
  options: RequestScopeOptions,
): OwnedRequestScope {
  const controller = new AbortController();
  let cause: AbortCause | null = null;
  const cleanups: (() => void)[] = [];
  const abort = (why: AbortCause) => {
    if (cause !== null) return;
    cause = why;
    for (const cleanup of cleanups.splice(0)) cleanup();
    controller.abort(causeError(why, options.timeoutMs));
  };
  const follow = (signal: AbortSignal | undefined, why: AbortCause) => {
    if (!signal) return;
    if (signal.aborted) return abort(why);
    const listener = () => abort(why);
    signal.addEventListener("abort", listener, { once: true });
    cleanups.push(() => signal.removeEventListener("abort", listener));
  };
  follow(options.requestSignal, "disconnected");
  follow(options.cancelSignal, "shutdown");
  if (cause === null) {
    const timer = setTimeout(() => abort("timeout"), options.timeoutMs);
    cleanups.push(() => clearTimeout(timer));
  }
  return {
    id: options.id ?? crypto.randomUUID(),
    signal: controller.signal,
    get cause() {
      return cause;
    },
    abortError() {
      return causeError(cause ?? "done", options.timeoutMs);
    },
    codes: [],
    dispose() {
      abort("done");
    },
  };
}
