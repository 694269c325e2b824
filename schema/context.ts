/**
 * What every resolver gets: the model (once loaded), the explainer registry,
 * the request limits and the logger.
 *
 * @module
 */
import type { YogaInitialContext } from "graphql-yoga";
import type { Registry } from "../explainers/registry.ts";
import type { ArtifactsLoader } from "../explainers/sanity.ts";
import { clientError } from "../lib/errors.ts";
import { DEFAULT_MAX_PIXELS } from "../lib/image.ts";
import { type ModelRuntime, type WorkQueue } from "../models/mod.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from "./query_limits.ts";

/**
 * Limits on requests and on the work they cause. `main.ts` sets each from a
 * flag; RELIABILITY.md lists them with the tests that prove them.
 */
export interface Limits extends QueryLimits {
  /** Largest uploaded, base64 or fetched image, in bytes. @default 20 MiB */
  maxImageBytes: number;
  /**
   * Longest `ImageInput.base64` text, in characters, refused before it is
   * scanned. @default 28 MiB (20 MiB of bytes as base64, line breaks included)
   */
  maxBase64Chars: number;
  /** Largest decoded image, `width * height`, read from the header. @default 40_000_000 */
  maxPixels: number;
  /** Most methods in one `explainMany`. @default 16 */
  maxMethods: number;
  /**
   * Largest HTTP request body: a larger `Content-Length` is refused before
   * reading, a longer chunked body as soon as it passes the limit. @default 32 MiB
   */
  maxRequestBytes: number;
  /**
   * Time a GraphQL request may take, queue wait included; its model work is
   * then abandoned (`TIMEOUT`). @default 60_000
   */
  requestTimeoutMs: number;
  /** Model jobs running at once. @default 1 */
  concurrency: number;
  /** Model jobs waiting for a slot; one more is refused (`OVERLOADED`). @default 16 */
  maxQueued: number;
  /** Time limit for fetching a URL input, in milliseconds. @default 10_000 */
  urlTimeoutMs: number;
  /** Most redirects followed for a URL input. @default 3 */
  urlMaxRedirects: number;
}

/**
 * The defaults of {@linkcode Limits}.
 *
 * @example
 * ```ts
 * createApp({ runtime, registry, limits: { ...DEFAULT_LIMITS, maxQueued: 64 } });
 * ```
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  ...DEFAULT_QUERY_LIMITS,
  maxImageBytes: 20 * 1024 * 1024,
  maxBase64Chars: 28 * 1024 * 1024,
  maxPixels: DEFAULT_MAX_PIXELS,
  maxMethods: 16,
  maxRequestBytes: 32 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  concurrency: 1,
  maxQueued: 16,
  urlTimeoutMs: 10_000,
  urlMaxRedirects: 3,
});

/** When set, `ImageInput.url` is accepted for these hosts. */
export interface UrlInputOptions {
  /** Host names (or IP literals) images may be fetched from. */
  allowHosts: readonly string[];
  /** Allow loopback, private and link-local addresses. @default false */
  allowPrivate?: boolean;
  /** Resolves a host to its addresses; @default `Deno.resolveDns` A + AAAA */
  resolveHost?: (host: string) => Promise<string[]>;
  /** Makes the checked requests (a seam for tests); @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Where the model stands: loading, loaded, or failed to load. */
export type ModelState =
  | { state: "loading" }
  | { state: "ready"; runtime: ModelRuntime }
  | { state: "failed"; error: string };

/** The app-wide services resolvers use. */
export interface Services {
  /** The current model state. */
  model(): ModelState;
  registry: Registry;
  /**
   * Reads the served model's topology and weights again, for
   * `sanityCheck`'s randomized copy; null: `sanityCheck` is unavailable.
   */
  modelArtifacts: ArtifactsLoader | null;
  limits: Readonly<Limits>;
  urlInputs: UrlInputOptions | null;
  log: Logger;
  /** The one queue all model work runs through. */
  queue: WorkQueue;
  metrics: Metrics;
  /** Whether the server is shutting down (new model work is refused). */
  stopping(): boolean;
}

/** Why a request's work was abandoned. */
export type AbortCause =
  /** The client disconnected. */
  | "disconnected"
  /** `requestTimeoutMs` passed. */
  | "timeout"
  /** Shutdown's grace period ended. */
  | "shutdown"
  /** The response was complete; leftover work is not needed. */
  | "done";

/** One HTTP request's identity and lifetime. */
export interface RequestScope {
  /** The `x-request-id` echoed to the client and written in every log line. */
  readonly id: string;
  /** Aborts when the request's work should stop; see `cause`. */
  readonly signal: AbortSignal;
  /** Why `signal` aborted; null while it has not. */
  readonly cause: AbortCause | null;
  /** The error to answer with once `signal` has aborted. */
  abortError(): Error;
  /** Error codes sent so far (for the request log). */
  readonly codes: string[];
}

/** What Lumen adds to yoga's context. */
export interface LumenUserContext {
  lumen: Services;
  scope: RequestScope;
}

/** The GraphQL context: yoga's (with the `request`) plus the services. */
export type LumenContext = YogaInitialContext & LumenUserContext;

/**
 * The loaded model, or a `MODEL_NOT_READY` (still loading) or
 * `MODEL_LOAD_FAILED` client error.
 *
 * @example
 * ```ts
 * const runtime = requireRuntime(context.lumen);
 * ```
 */
export function requireRuntime(services: Services): ModelRuntime {
  const model = services.model();
  if (model.state === "ready") return model.runtime;
  if (model.state === "failed") {
    throw clientError(
      "MODEL_LOAD_FAILED",
      `The model failed to load: ${model.error}`,
    );
  }
  throw clientError(
    "MODEL_NOT_READY",
    "The model is still loading: retry in a few seconds (GET /ready answers 200 when it is ready)",
  );
}
