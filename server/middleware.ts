/**
 * What wraps every HTTP request: an id (`x-request-id`, echoed or made)
 * that every log line written while serving it carries; a scope whose
 * signal stops its work when the client leaves, its time runs out or
 * shutdown cancels it; the in-flight count; one JSON log line and the
 * request metrics when it is answered (for a streamed body, the scope ends
 * when the body does).
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "../lib/mod.ts";
import type { RequestScope } from "../schema/mod.ts";
import {
  createRequestScope,
  type OwnedRequestScope,
  requestIdFrom,
} from "./request_scope.ts";

/**
 * Whether an error only says that the client left (an abort, or a GraphQL
 * error coded `REQUEST_ABORTED` wrapping one): logged without a stack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isClientGone(new DOMException("gone", "AbortError")), true);
 * assert.equal(isClientGone(new Error("bug")), false);
 * ```
 */
export function isClientGone(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "AbortError") return true;
  const { extensions, originalError } = error as Error & {
    extensions?: { code?: unknown };
    originalError?: unknown;
  };
  return extensions?.code === "REQUEST_ABORTED" ||
    (originalError !== undefined && isClientGone(originalError));
}

/** Fixed route names for metrics and logs (never the raw path). */
export function routeOf(pathname: string): string {
  switch (pathname) {
    case "/graphql":
    case "/health":
    case "/ready":
    case "/metrics":
      return pathname.slice(1);
    default:
      return "other";
  }
}

/** Whether a response body streams on after the headers (`@defer`, `@stream`, SSE). */
function isIncremental(response: Response): boolean {
  const type = response.headers.get("content-type") ?? "";
  return type.startsWith("multipart/mixed") ||
    type.startsWith("text/event-stream");
}

/** The same response, calling `done` once its body is read, failed or cancelled. */
function whenBodyDone(response: Response, done: () => void): Response {
  if (!response.body) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          controller.close();
          finish();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        controller.error(error);
        finish();
      }
    },
    async cancel(reason) {
      finish();
      await reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The response with `x-request-id` set (copying it if its headers are immutable). */
function withRequestId(response: Response, id: string): Response {
  try {
    response.headers.set("x-request-id", id);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set("x-request-id", id);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }
}

/** Options of {@linkcode requestHandler}. */
export interface RequestHandlerOptions {
  /** Answers a request within its scope. */
  handle: (request: Request, scope: RequestScope) => Promise<Response>;
  /** Time a request may take, ms. */
  timeoutMs: number;
  /** Aborts every request's work (shutdown's grace period is over). */
  cancelSignal: AbortSignal;
  /** The log every line of a request goes through (its id added). */
  log: Logger;
  /** One request answered. */
  onAnswered?: (route: string, status: number, seconds: number) => void;
}

/** The HTTP entry point with the request count it keeps. */
export interface RequestHandler {
  fetch(request: Request): Promise<Response>;
  /** Requests being answered now. */
  readonly inFlight: number;
  /** A logger adding the current request's id to every line. */
  readonly log: Logger;
}

/**
 * Wraps `handle` with request ids, scopes, logs and metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The app's: handle: (r, scope) => yoga.fetch(r, { scope }), served by serveHttp(handler.fetch).
 * const lines: string[] = [];
 * const handler = requestHandler({
 *   handle: (_request, scope) => Promise.resolve(new Response(`scope ${scope.id}`)),
 *   timeoutMs: 60_000,
 *   cancelSignal: new AbortController().signal, // aborted when shutdown's grace ends
 *   log: (_level, msg, fields) => lines.push(`${msg} ${fields?.requestId}`),
 * });
 * const response = await handler.fetch(
 *   new Request("http://localhost/graphql", { headers: { "x-request-id": "abc-1" } }),
 * );
 * assert.equal(await response.text(), "scope abc-1");
 * assert.equal(response.headers.get("x-request-id"), "abc-1"); // echoed
 * assert.deepEqual(lines, ["request abc-1"]);
 * assert.equal(handler.inFlight, 0);
 * ```
 */
export function requestHandler(options: RequestHandlerOptions): RequestHandler {
  const requestIds = new AsyncLocalStorage<string>();
  const baseLog = options.log;
  const log: Logger = (level, msg, fields) => {
    const requestId = requestIds.getStore();
    baseLog(level, msg, requestId ? { requestId, ...fields } : fields);
  };
  let inFlight = 0;
  const answer = async (
    request: Request,
    id: string,
  ): Promise<{ response: Response; scope: OwnedRequestScope }> => {
    const scope = createRequestScope({
      id,
      requestSignal: request.signal,
      timeoutMs: options.timeoutMs,
      cancelSignal: options.cancelSignal,
    });
    try {
      return { response: await options.handle(request, scope), scope };
    } catch (error) {
      scope.dispose();
      throw error;
    }
  };
  return {
    log,
    get inFlight() {
      return inFlight;
    },
    async fetch(request) {
      const start = performance.now();
      const { pathname } = new URL(request.url);
      const id = requestIdFrom(request.headers);
      inFlight++;
      let answered: { response: Response; scope: OwnedRequestScope };
      try {
        answered = await requestIds.run(id, () => answer(request, id));
      } catch (error) {
        inFlight--;
        if (isClientGone(error)) {
          // The client's own doing: no bug, no stack.
          log("info", "client left before the answer", {
            requestId: id,
            method: request.method,
            path: pathname,
          });
        } else {
          log("error", "request failed", {
            requestId: id,
            method: request.method,
            path: pathname,
            error,
          });
        }
        throw error;
      }
      const { scope } = answered;
      let response = withRequestId(answered.response, id);
      const end = () => {
        inFlight--;
        scope.dispose();
      };
      if (isIncremental(response)) response = whenBodyDone(response, end);
      else end();
      const ms = performance.now() - start;
      const route = routeOf(pathname);
      options.onAnswered?.(route, response.status, ms / 1000);
      baseLog(
        route === "graphql" || route === "other" ? "info" : "debug",
        "request",
        {
          requestId: id,
          method: request.method,
          path: pathname,
          status: response.status,
          ms: Math.round(ms * 10) / 10,
          ...(scope.codes.length > 0 ? { codes: scope.codes } : {}),
        },
      );
      return response;
    },
  };
}
