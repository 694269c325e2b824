/**
 * The Lumen HTTP app: the GraphQL API (graphql-yoga, with `@defer` /
 * `@stream` and multipart uploads), GraphiQL at `/graphql`, and the
 * `/health` and `/ready` probes. Transport-agnostic: `app.fetch` serves
 * tests in-process and `Deno.serve` alike.
 *
 * @module
 */
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { createSchema, createYoga, type YogaLogger } from "graphql-yoga";
import type { Registry } from "../explainers/registry.ts";
import type { ModelRuntime } from "../models/runtime.ts";
import {
  DEFAULT_LIMITS,
  type Limits,
  type LumenContext,
  type LumenUserContext,
  type ModelState,
  type Services,
  type UrlInputOptions,
} from "./context.ts";
import { DEFAULT_QUERY } from "./default_query.ts";
import { type Logger, silentLogger } from "./log.ts";
import { explain } from "./resolvers/explain.ts";
import { explainMany } from "./resolvers/explain_many.ts";
import { explainers } from "./resolvers/explainers.ts";
import { model } from "./resolvers/model.ts";
import { predict } from "./resolvers/predict.ts";
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
  /** Overrides of {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  /** Enables `ImageInput.url` for these hosts; null refuses URLs. @default null */
  urlInputs?: UrlInputOptions | null;
  /** Serve GraphiQL at `/graphql` to browsers. @default true */
  graphiql?: boolean;
  /** Mask unexpected errors as `INTERNAL_SERVER_ERROR` (and log them). @default true */
  maskedErrors?: boolean;
  /** @default silent */
  log?: Logger;
}

/** The app: a fetch handler for `Deno.serve` or in-process tests. */
export interface App {
  /** Answers one HTTP request. */
  fetch(request: Request): Promise<Response>;
  /** The merged limits in force. */
  readonly limits: Readonly<Limits>;
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
  const log = options.log ?? silentLogger;
  const limits: Readonly<Limits> = Object.freeze({
    ...DEFAULT_LIMITS,
    ...options.limits,
  });
  const state = (): ModelState => {
    const runtime = options.runtime();
    if (runtime) return { state: "ready", runtime };
    const error = options.loadError?.() ?? null;
    return error === null ? { state: "loading" } : { state: "failed", error };
  };
  const services: Services = {
    model: state,
    registry: options.registry,
    limits,
    urlInputs: options.urlInputs ?? null,
    log,
  };
  const yoga = createYoga<Record<string, unknown>, LumenUserContext>({
    schema: createSchema<Record<string, unknown> & LumenContext>({
      typeDefs,
      resolvers: {
        JSON: JSONScalar,
        Query: { explain, explainMany, predict, explainers, model },
      },
    }),
    context: (): LumenUserContext => ({ lumen: services }),
    plugins: [useDeferStream()],
    graphiql: options.graphiql === false ? false : {
      defaultQuery: DEFAULT_QUERY,
      title: "Lumen",
    },
    landingPage: false,
    maskedErrors: options.maskedErrors ?? true,
    maxRequestBodySize: limits.maxRequestBytes,
    logging: yogaLogger(log),
  });

  return {
    limits,
    fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === "/health") {
        return Promise.resolve(new Response("ok", { status: 200 }));
      }
      if (pathname === "/ready") {
        const model = state();
        if (model.state === "ready") {
          return Promise.resolve(json({
            status: "ready",
            backend: model.runtime.backend.name,
            adapter: model.runtime.backend.adapter,
          }, 200));
        }
        return Promise.resolve(json(
          model.state === "failed"
            ? { status: "failed", error: model.error }
            : { status: "loading" },
          503,
        ));
      }
      return Promise.resolve(yoga.fetch(request));
    },
  };
}
