/**
 * What every resolver gets: the explanation service, the method registry,
 * the limits, metrics, the logger and the job queue (`Services`, built once
 * by the server), and the request's scope (its id, its signal, the answer for
 * abandoned work).
 *
 * @module
 */
import type { YogaInitialContext } from "graphql-yoga";
import type { Registry } from "../explainers/mod.ts";
import type { ExplanationQueue } from "../jobs/explanation/mod.ts";
import {
  DEFAULT_MAX_PIXELS,
  type Logger,
  type LongStrings,
} from "../lib/mod.ts";
import type { ExplainService } from "../workers/mod.ts";
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from "./query_limits.ts";

/**
 * Limits on requests and on the work they cause. The server sets each from
 * a flag; RELIABILITY.md lists them with the tests that prove them.
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
  /** Time to read a request body; a slower upload is refused. @default 30_000 */
  bodyTimeoutMs: number;
  /** Model worker processes; each runs one cheap and one expensive call at a time. @default 1 */
  concurrency: number;
  /** Model jobs waiting in each lane; one more is refused (`OVERLOADED`). @default 16 */
  maxQueued: number;
  /** Most model passes one request may cost (see `explain/cost.ts`). @default 2500 */
  maxRequestPasses: number;
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
 * import assert from "node:assert/strict";
 * // createApp({ service, registry, limits })
 * const limits = { ...DEFAULT_LIMITS, maxQueued: 64 };
 * assert.equal(limits.maxQueued, 64);
 * assert.equal(limits.maxMethods, 16); // the others keep their defaults
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
  bodyTimeoutMs: 30_000,
  concurrency: 1,
  maxQueued: 16,
  maxRequestPasses: 2500,
  urlTimeoutMs: 10_000,
  urlMaxRedirects: 3,
});

/** Fetches an `ImageInput.url` under the server's checks and limits. */
export type UrlFetcher = (
  url: string,
  options: { maxBytes: number; signal: AbortSignal },
) => Promise<Uint8Array>;

/** What resolvers record for `/metrics`. */
export interface ResolverMetrics {
  /** A model job (`field`: explain, predict, …) ended with `outcome`. */
  job(field: string, outcome: string, seconds: number): void;
  /** A method's map was computed in `seconds`. */
  explained(method: string, seconds: number): void;
  /** One GraphQL error sent, by `extensions.code` (`NONE` without one). */
  error(code: string): void;
}

/** Explanation jobs as the API sees them. */
export interface JobsService {
  /** Where jobs are queued, followed and cancelled. */
  queue: ExplanationQueue;
  /** Most model passes one job may cost (`--max-job-passes`). */
  maxPasses: number;
}

/** The app-wide services resolvers use. */
export interface Services {
  /** Where model work runs. */
  service: ExplainService;
  registry: Registry;
  limits: Readonly<Limits>;
  /** Fetches URL inputs; null: `ImageInput.url` is refused. */
  fetchUrl: UrlFetcher | null;
  metrics: ResolverMetrics;
  log: Logger;
  /** Explanation jobs; null: the job fields answer `UNAVAILABLE`. */
  jobs: JobsService | null;
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
  /**
   * Long strings of this request's answer kept as bytes: a resolver adds
   * one and answers its key, and the server's JSON writer puts the bytes
   * in its place (`server/json_results.ts`). Absent (the schema run
   * without that writer), resolvers answer the strings themselves.
   */
  answerStrings?: LongStrings;
}

/** The GraphQL context: yoga's (with the `request`) plus the services. */
export type LumenContext = YogaInitialContext & LumenUserContext;
