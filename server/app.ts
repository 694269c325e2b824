/**
 * The Lumen HTTP app: the GraphQL API (graphql-yoga, with `@defer` /
 * `@stream`, multipart uploads and subscriptions over server-sent events),
 * GraphiQL and the web page, `/health`, `/ready` and `/metrics` — each a
 * yoga plugin, assembled in one list — wrapped in the per-request
 * middleware (ids, scopes, logs). Transport-agnostic: `app.fetch` serves
 * tests in-process and `serveHttp` alike. Model work goes to the
 * explanation service; `drain()` stops it for a graceful shutdown.
 *
 * @module
 */
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { createYoga, type Plugin, type YogaLogger } from "graphql-yoga";
import type { Registry } from "../explainers/mod.ts";
import type { ExplanationJobs } from "../jobs/explanation/mod.ts";
import { jobMetricFamilies, type JobStats } from "../jobs/mod.ts";
import { type Logger, type MetricFamily, silentLogger } from "../lib/mod.ts";
import {
  DEFAULT_LIMITS,
  DEFAULT_QUERY,
  type Limits,
  lumenSchema,
  type LumenUserContext,
  maskErrors,
  type RequestScope,
  type Services,
  useErrorCounting,
  useNoIntrospection,
  useQueryLimits,
} from "../schema/mod.ts";
import { createWebHandler, renderOfflineGraphiQL } from "../web/mod.ts";
import type { ExplainService } from "../workers/mod.ts";
import { corsOptions } from "./cors.ts";
import { useIncrementalAccept } from "./accept.ts";
import { useFastJsonResults } from "./json_results.ts";
import { useCsrfHeader } from "./csrf.ts";
import { createMetrics } from "./metrics.ts";
import { isClientGone, requestHandler } from "./middleware.ts";
import { useHealth, useMetrics, useReady, useWebPage } from "./routes.ts";
import { fetchImageUrl, type UrlInputOptions } from "./url_input.ts";

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** Where model work runs. */
  service: ExplainService;
  registry: Registry;
  /** Overrides of {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  /** Enables `ImageInput.url` for these hosts; null refuses URLs. @default null */
  urlInputs?: UrlInputOptions | null;
  /** Origins allowed to call the API from a browser (CORS); @default none */
  corsOrigins?: readonly string[];
  /**
   * Production defaults: GraphiQL and introspection off, masked errors
   * without details. @default false
   */
  production?: boolean;
  /** Serve GraphiQL at `/graphql` to browsers. @default !production */
  graphiql?: boolean;
  /** Answer introspection queries. @default !production */
  introspection?: boolean;
  /** More `/metrics` families. */
  extraMetrics?: () => MetricFamily[];
  /**
   * Explanation jobs (`openExplanationJobs`): the job fields use its queue;
   * on Redis, `/ready` answers 503 while Redis cannot be reached. None: the
   * job fields answer `UNAVAILABLE`. @default null
   */
  jobs?: ExplanationJobs | null;
  /** @default silent */
  log?: Logger;
}

/** Options of {@linkcode App.drain}. */
export interface DrainOptions {
  /** Time queued and running model work may take to finish, ms. */
  graceMs: number;
}

/** The app: a fetch handler for `serveHttp` or in-process tests. */
export interface App {
  /** Answers one HTTP request. */
  fetch(request: Request): Promise<Response>;
  /** The merged limits in force. */
  readonly limits: Readonly<Limits>;
  /** Where model work runs (its queue and counts). */
  readonly service: ExplainService;
  /** Whether `drain()` was called. */
  readonly stopping: boolean;
  /**
   * Starts a graceful stop: `/ready` answers 503 and new model work
   * `SHUTTING_DOWN`; queued and running work may finish within `graceMs`,
   * after which it is cancelled. Resolves once no model work is left, with
   * whether any had to be cancelled.
   */
  drain(options: DrainOptions): Promise<{ cancelled: boolean }>;
}

/** Yoga's logger, forwarded to ours (yoga's debug chatter dropped). */
function yogaLogger(log: Logger): YogaLogger {
  const text = (a: unknown) => typeof a === "string" ? a : JSON.stringify(a);
  const forward =
    (level: "info" | "warn" | "error") => (...args: unknown[]) => {
      const error = args.find((a) => a instanceof Error);
      if (error && isClientGone(error)) {
        log("info", `client left: ${error.message}`);
      } else if (error) log(level, error.message, { error });
      else log(level, args.map(text).join(" "));
    };
  return {
    debug: () => {},
    info: forward("info"),
    warn: forward("warn"),
    error: forward("error"),
  };
}

/**
 * The job store's part in `/ready` and `/metrics`, before their own
 * plugins answer: `/ready` is 503 while a Redis store does not answer (an
 * API replica that cannot queue or follow jobs should get no traffic), and
 * `/metrics` reads the queue's numbers first (`null` when unreachable).
 */
function useJobStore(
  jobs: ExplanationJobs,
  onStats: (stats: JobStats | null) => void,
): Plugin {
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname === "/metrics") {
        onStats(await jobs.queue.stats().catch(() => null));
      } else if (url.pathname === "/ready" && !jobs.embedded) {
        try {
          await jobs.queue.ping();
        } catch {
          endResponse(
            new Response(
              JSON.stringify({
                status: "unavailable",
                error: "The job store (Redis) cannot be reached",
              }),
              {
                status: 503,
                headers: { "content-type": "application/json; charset=utf-8" },
              },
            ),
          );
        }
      }
    },
  };
}

/**
 * Builds the app. `/health` answers 200 at once; `/ready` answers 503 until
 * the service's default model is loaded (and, with jobs on Redis, while
 * Redis cannot be reached).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { createModelSet, loadModel } from "../models/mod.ts";
 * import { createLocalService } from "../workers/mod.ts";
 * // main.ts serves the shipped ResNet-50 from worker processes; here a tiny
 * // ONNX ResNet-18 (random weights) runs in this process.
 * const registry = createRegistry();
 * const service = createLocalService({
 *   models: createModelSet([{
 *     name: "resnet18",
 *     load: () => loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 }),
 *   }]),
 *   registry,
 * });
 * await service.ready();
 * const app = createApp({ service, registry });
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query: "{ model { backend } }" }),
 * }));
 * assert.deepEqual(await response.json(), { data: { model: { backend: "onnxruntime" } } });
 * await service.close();
 * ```
 */
export function createApp(options: AppOptions): App {
  const limits: Readonly<Limits> = Object.freeze({
    ...DEFAULT_LIMITS,
    ...options.limits,
  });
  const production = options.production ?? false;
  const { service } = options;
  const metrics = createMetrics();
  /** Aborted when `drain()`'s grace period ends. */
  const cancel = new AbortController();
  let stopping = false;
  const handler = requestHandler({
    handle: async (request, scope) => await yoga.fetch(request, { scope }),
    timeoutMs: limits.requestTimeoutMs,
    cancelSignal: cancel.signal,
    log: options.log ?? silentLogger,
    onAnswered: metrics.request,
  });
  const { log } = handler;
  const urlInputs = options.urlInputs ?? null;
  const jobs = options.jobs ?? null;
  /** The job queue's numbers, read as `/metrics` is scraped. */
  let jobStats: JobStats | null = null;
  const services: Services = {
    service,
    registry: options.registry,
    limits,
    fetchUrl: urlInputs &&
      ((url, { maxBytes, signal }) =>
        fetchImageUrl(url, {
          ...urlInputs,
          maxBytes,
          signal,
          timeoutMs: limits.urlTimeoutMs,
          maxRedirects: limits.urlMaxRedirects,
        })),
    metrics,
    log,
    jobs: jobs && { queue: jobs.queue, maxPasses: jobs.settings.maxPasses },
  };
  const plugins: Plugin[] = [
    useHealth(),
    ...(jobs ? [useJobStore(jobs, (stats) => jobStats = stats)] : []),
    useReady({ state: service.state, stopping: () => stopping }),
    useMetrics(() =>
      metrics.render({
        stats: service.stats,
        state: service.state,
        inFlight: () => handler.inFlight,
        extra: () => [
          ...(options.extraMetrics?.() ?? []),
          ...(jobs
            ? jobMetricFamilies(jobStats, {
              capacity: jobs.settings.maxQueued,
            })
            : []),
        ],
      })
    ),
    useWebPage(createWebHandler()),
    useCsrfHeader(),
    useQueryLimits(limits),
    ...(options.introspection ?? !production ? [] : [useNoIntrospection()]),
    useDeferStream(),
    useIncrementalAccept(),
    useErrorCounting(metrics),
    useFastJsonResults(),
  ];
  const yoga = createYoga<{ scope: RequestScope }, LumenUserContext>({
    schema: lumenSchema(),
    context: ({ scope }): LumenUserContext => ({ lumen: services, scope }),
    plugins,
    cors: corsOptions(options.corsOrigins ?? []),
    graphiql: (options.graphiql ?? !production)
      ? { defaultQuery: DEFAULT_QUERY, title: "Lumen" }
      : false,
    renderGraphiQL: renderOfflineGraphiQL,
    landingPage: false,
    // `useHealth` answers /health (yoga's own check would answer first).
    healthCheckEndpoint: "/.yoga/health",
    maskedErrors: {
      maskError: maskErrors({
        isDev: !production,
        onMasked: (error) =>
          log("error", (error as Error)?.message ?? String(error), { error }),
      }),
    },
    maxRequestBodySize: limits.maxRequestBytes,
    logging: yogaLogger(log),
  });

  return {
    limits,
    service,
    get stopping() {
      return stopping;
    },
    async drain({ graceMs }) {
      stopping = true;
      // Model work still queued or running when the grace period ends is
      // cancelled by the service (its requests answer SHUTTING_DOWN); then
      // whatever else a request still waits for stops too.
      const result = await service.drain({ graceMs });
      if (result.cancelled) {
        log("warn", "grace period over: model work was cancelled");
      }
      cancel.abort();
      return result;
    },
    fetch: handler.fetch,
  };
}
