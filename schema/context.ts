/**
 * What every resolver gets: the model (once loaded), the explainer registry,
 * the request limits and the logger.
 *
 * @module
 */
import type { YogaInitialContext } from "graphql-yoga";
import type { Registry } from "../explainers/registry.ts";
import { clientError } from "../lib/errors.ts";
import { DEFAULT_MAX_PIXELS } from "../lib/image.ts";
import type { ModelRuntime } from "../models/runtime.ts";
import type { Logger } from "./log.ts";

/** Per-request limits. */
export interface Limits {
  /** Largest uploaded, base64 or fetched image, in bytes. @default 20 MB */
  maxImageBytes: number;
  /** Largest decoded image, `width * height`. @default 40_000_000 */
  maxPixels: number;
  /** Most methods in one `explainMany`. @default 16 */
  maxMethods: number;
  /** Largest HTTP request body yoga reads. @default 32 MB */
  maxRequestBytes: number;
  /** Time limit for fetching a URL input, in milliseconds. @default 10_000 */
  urlTimeoutMs: number;
  /** Most redirects followed for a URL input. @default 3 */
  urlMaxRedirects: number;
}

/** The defaults of {@linkcode Limits}. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxImageBytes: 20 * 1024 * 1024,
  maxPixels: DEFAULT_MAX_PIXELS,
  maxMethods: 16,
  maxRequestBytes: 32 * 1024 * 1024,
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
  limits: Readonly<Limits>;
  urlInputs: UrlInputOptions | null;
  log: Logger;
}

/** What Lumen adds to yoga's context. */
export interface LumenUserContext {
  lumen: Services;
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
