/**
 * The Lumen HTTP app: the GraphQL API (graphql-yoga, with `@defer` /
 * `@stream`, multipart uploads and subscriptions over server-sent events),
 * GraphiQL at `/graphql`, the `/health`
 * and `/ready` probes and `/metrics` (Prometheus). Transport-agnostic:
 * `app.fetch` serves tests in-process and `Deno.serve` alike.
 *
 * Every request gets an id (`x-request-id`, echoed or generated) that every
 * log line written while serving it carries, and one JSON log line when
 * answered. Model work goes through one bounded queue (see `model_job.ts`);
 * `drain()` stops it for a graceful shutdown.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { createSchema, createYoga, type YogaLogger } from "graphql-yoga";
import type { Registry } from "../explainers/registry.ts";
import type { ArtifactsLoader } from "../explainers/sanity.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../lib/prometheus.ts";
import {
  createWorkQueue,
  type ModelRuntime,
  type WorkQueue,
} from "../models/mod.ts";
import { createWebHandler, renderOfflineGraphiQL } from "../web/mod.ts";
import {
  DEFAULT_LIMITS,
  type Limits,
  type LumenContext,
  type LumenUserContext,
  type ModelState,
  type RequestScope,
  type Services,
  type UrlInputOptions,
} from "./context.ts";
import { DEFAULT_QUERY } from "./default_query.ts";
import { type Logger, silentLogger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { useErrorCounting, useNoIntrospection } from "./plugins.ts";
import { useQueryLimits } from "./query_limits.ts";
import {
  createRequestScope,
  type OwnedRequestScope,
  requestIdFrom,
} from "./request_scope.ts";
import { explain } from "./resolvers/explain.ts";
import { explainMany } from "./resolvers/explain_many.ts";
import { explainProgress } from "./resolvers/explain_progress.ts";
import { explainers } from "./resolvers/explainers.ts";
import { model } from "./resolvers/model.ts";
import { predict } from "./resolvers/predict.ts";
import { sanityCheck } from "./resolvers/sanity_check.ts";
import { JSONScalar } from "./scalars.ts";

const typeDefs = await Deno.readTextFile(
  new URL("./schema.graphql", import.meta.url),
);

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** The model once loaded; null while loading (queries: `MODEL_NOT_READY`). */
  runtime: () => ModelRuntime | null;
  /**
   * Why loading failed, if it did: `/ready` reports it and model queries
   * answer `MODEL_LOAD_FAILED`. @default () => null
   */
  loadError?: () => string | null;
  registry: Registry;
  /**
   * Reads the served model's topology and weights (e.g.
   * `resnet50Artifacts`), for `sanityCheck`, which randomizes a copy of
   * the model on first use and keeps it for the process (as much memory
   * again as the model); null: `sanityCheck` answers `UNSUPPORTED_MODEL`.
   * @default null
   */
  modelArtifacts?: ArtifactsLoader | null;
  /** Overrides of {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  /** Enables `ImageInput.url` for these hosts; null refuses URLs. @default null */
  urlInputs?: UrlInputOptions | null;
  /**
   * Production defaults: GraphiQL and introspection off, masked errors
   * without details. @default false
   */
  production?: boolean;
  /** Serve GraphiQL at `/graphql` to browsers. @default !production */
  graphiql?: boolean;
  /** Answer introspection queries. @default !production */
  introspection?: boolean;
  /**
   * Mask unexpected errors as `INTERNAL_SERVER_ERROR` (and log them); out of
   * production the original message and stack go along in
   * `extensions.originalError`. @default true
   */
  maskedErrors?: boolean;
  /** @default silent */
  log?: Logger;
}

/**
 * Headers any one of which lets a multipart, form or text/plain POST (or a
 * GET) through CSRF prevention: browsers cannot send them cross-site
 * without a CORS preflight.
 *
 * @example
 * ```ts
 * fetch("/graphql", { method: "POST", body: form, headers: { [CSRF_HEADERS[0]]: "1" } });
 * ```
 */
export const CSRF_HEADERS: readonly string[] = [
  "x-graphql-yoga-csrf",
  "apollo-require-preflight",
];

/** Options of {@linkcode App.drain}. */
export interface DrainOptions {
  /** Time queued and running model work may take to finish, ms. */
  graceMs: number;
}

/** The app: a fetch handler for `Deno.serve` or in-process tests. */
export interface App {
  /** Answers one HTTP request. */
  fetch(request: Request): Promise<Response>;
  /** The merged limits in force. */
  readonly limits: Readonly<Limits>;
  /** The model work queue (for stats). */
  readonly queue: WorkQueue;
  /** Whether `drain()` was called. */
  readonly stopping: boolean;
  /**
   * Starts a graceful stop: `/ready` answers 503 and new model work
   * `SHUTTING_DOWN`; queued and running work may finish within `graceMs`,
   * after which it is cancelled (queued requests are dropped, running ones
   * stop at their next step). Resolves once no model work is left, with
   * whether any had to be cancelled.
   */
  drain(options: DrainOptions): Promise<{ cancelled: boolean }>;
}

/** Fixed route names for metrics (never the raw path). */
function routeOf(pathname: string): string {
  switch (pathname) {
    case "/graphql":
      return "graphql";
    case "/health":
      return "health";
    case "/ready":
      return "ready";
    case "/metrics":
      return "metrics";
    default:
      return "other";
  }
}

/** Whether a response body streams on after the headers (`@defer`, `@stream`). */
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

/** Yoga's logger, forwarded to ours (yoga's debug chatter dropped). */
function yogaLogger(log: Logger): YogaLogger {
  const text = (a: unknown) => typeof a === "string" ? a : JSON.stringify(a);
  const forward =
    (level: "info" | "warn" | "error") => (...args: unknown[]) => {
      const error = args.find((a) => a instanceof Error);
      if (error) log(level, error.message, { error });
      else log(level, args.map(text).join(" "));
    };
  return {
    debug: () => {},
    info: forward("info"),
    warn: forward("warn"),
    error: forward("error"),
  };
}

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * Builds the app. `/health` answers 200 at once; `/ready` answers 503 until
 * `runtime()` returns a model, then 200 with `{status: "ready", backend}`.
 *
 * @example
 * ```ts
 * const app = createApp({ runtime: () => runtime, registry: createRegistry() });
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query: "{ model { backend } }" }),
 * }));
 * ```
 */
export function createApp(options: AppOptions): App {
  const requestIds = new AsyncLocalStorage<string>();
  const baseLog = options.log ?? silentLogger;
  // Every line logged while serving a request carries its id.
  const log: Logger = (level, msg, fields) => {
    const requestId = requestIds.getStore();
    baseLog(level, msg, requestId ? { requestId, ...fields } : fields);
  };
  const limits: Readonly<Limits> = Object.freeze({
    ...DEFAULT_LIMITS,
    ...options.limits,
  });
  const production = options.production ?? false;
  const metrics = createMetrics();
  const queue = createWorkQueue({
    concurrency: limits.concurrency,
    maxQueued: limits.maxQueued,
    onStart: (waitedMs) => metrics.waited(waitedMs / 1000),
  });
  /** Aborted when `drain()`'s grace period ends. */
  const cancel = new AbortController();
  let stopping = false;
  let inFlight = 0;
  const state = (): ModelState => {
    const runtime = options.runtime();
    if (runtime) return { state: "ready", runtime };
    const error = options.loadError?.() ?? null;
    return error === null ? { state: "loading" } : { state: "failed", error };
  };
  const services: Services = {
    model: state,
    registry: options.registry,
    modelArtifacts: options.modelArtifacts ?? null,
    limits,
    urlInputs: options.urlInputs ?? null,
    log,
    queue,
    metrics,
    stopping: () => stopping,
  };
  const yoga = createYoga<{ scope: RequestScope }, LumenUserContext>({
    schema: createSchema<Record<string, unknown> & LumenContext>({
      typeDefs,
      resolvers: {
        JSON: JSONScalar,
        Query: {
          explain,
          explainMany,
          predict,
          sanityCheck,
          explainers,
          model,
        },
        Subscription: { explainProgress },
      },
    }),
    context: ({ scope }): LumenUserContext => ({ lumen: services, scope }),
    plugins: [
      useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] }),
      useQueryLimits(limits),
      ...(options.introspection ?? !production ? [] : [useNoIntrospection()]),
      useDeferStream(),
      useErrorCounting(metrics),
    ],
    graphiql: (options.graphiql ?? !production)
      ? { defaultQuery: DEFAULT_QUERY, title: "Lumen" }
      : false,
    renderGraphiQL: renderOfflineGraphiQL,
    landingPage: false,
    maskedErrors: options.maskedErrors === false
      ? false
      : { isDev: !production },
    maxRequestBodySize: limits.maxRequestBytes,
    logging: yogaLogger(log),
  });

  const web = createWebHandler();

  /** Answers one request, the probes and `/metrics` without yoga. */
  const route = async (
    request: Request,
    pathname: string,
    id: string,
  ): Promise<{ response: Response; scope: OwnedRequestScope | null }> => {
    const page = web(request);
    if (page) return { response: await page, scope: null };
    if (pathname === "/health") {
      return { response: new Response("ok", { status: 200 }), scope: null };
    }
    if (pathname === "/ready") {
      const model = state();
      if (stopping) {
        return { response: json({ status: "stopping" }, 503), scope: null };
      }
      if (model.state === "ready") {
        return {
          response: json({
            status: "ready",
            backend: model.runtime.backend.name,
            adapter: model.runtime.backend.adapter,
          }, 200),
          scope: null,
        };
      }
      return {
        response: json(
          model.state === "failed"
            ? { status: "failed", error: model.error }
            : { status: "loading" },
          503,
        ),
        scope: null,
      };
    }
    if (pathname === "/metrics") {
      const text = metrics.render({
        queue,
        model: state,
        inFlight: () => inFlight,
      });
      return {
        response: new Response(text, {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
        }),
        scope: null,
      };
    }
    const scope = createRequestScope({
      id,
      requestSignal: request.signal,
      timeoutMs: limits.requestTimeoutMs,
      cancelSignal: cancel.signal,
    });
    try {
      return { response: await yoga.fetch(request, { scope }), scope };
    } catch (error) {
      scope.dispose();
      throw error;
    }
  };

  return {
    limits,
    queue,
    get stopping() {
      return stopping;
    },
    async drain({ graceMs }) {
      stopping = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const finished = await Promise.race([
        queue.idle().then(() => true as const),
        graceOver,
      ]);
      clearTimeout(timer);
      if (finished) return { cancelled: false };
      log("warn", "grace period over: cancelling model work", {
        running: queue.running,
        queued: queue.queued,
      });
      cancel.abort();
      await queue.idle();
      return { cancelled: true };
    },
    async fetch(request) {
      const start = performance.now();
      const { pathname } = new URL(request.url);
      const id = requestIdFrom(request.headers);
      inFlight++;
      let answered: { response: Response; scope: OwnedRequestScope | null };
      try {
        answered = await requestIds.run(id, () => route(request, pathname, id));
      } catch (error) {
        inFlight--;
        log("error", "request failed", {
          requestId: id,
          method: request.method,
          path: pathname,
          error,
        });
        throw error;
      }
      const { scope } = answered;
      let response = withRequestId(answered.response, id);
      const end = () => {
        inFlight--;
        scope?.dispose();
      };
      if (isIncremental(response)) response = whenBodyDone(response, end);
      else end();
      const ms = performance.now() - start;
      const routeName = routeOf(pathname);
      metrics.request(routeName, response.status, ms / 1000);
      baseLog(
        routeName === "graphql" || routeName === "other" ? "info" : "debug",
        "request",
        {
          requestId: id,
          method: request.method,
          path: pathname,
          status: response.status,
          ms: Math.round(ms * 10) / 10,
          ...(scope && scope.codes.length > 0 ? { codes: scope.codes } : {}),
        },
      );
      return response;
    },
  };
}
