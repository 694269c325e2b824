/**
 * The Lumen server: reads flags and environment, starts `Deno.serve` at once
 * (so `/health` answers while the model loads), loads the model in the
 * background, and shuts down gracefully on SIGINT / SIGTERM: it stops
 * accepting connections, lets in-flight work finish within the grace period
 * (then cancels it), releases the backend and exits 0.
 *
 * ```sh
 * deno run --allow-read=. --allow-env --allow-net main.ts --port 8000
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { builtinExplainers, createRegistry } from "./explainers/registry.ts";
import {
  type ArtifactsLoader,
  resnet50Artifacts,
} from "./explainers/sanity.ts";
import type { Explainer } from "./explainers/types.ts";
import { PREPROCESS_MODES, type PreprocessMode } from "./lib/preprocess.ts";
import {
  ENGINE_PREFERENCES,
  type EnginePreference,
  fileHandler,
  loadModel,
  type ModelRuntime,
  parseLabels,
  shutdownBackend,
} from "./models/mod.ts";
import { createApp, DEFAULT_LIMITS, type Limits } from "./schema/mod.ts";
import { jsonLogger, type Logger, type LogLevel } from "./schema/mod.ts";
import { serveHttp } from "./schema/serve.ts";

/** Usage text, printed by `--help` and after a bad flag. */
export const USAGE = `Usage: deno task serve [FLAGS]
   or: deno run --allow-read=. --allow-env --allow-net main.ts [FLAGS]

Flags:
  --port N                 Port to listen on (env PORT; default 8000; 0 picks
                           a free one, logged as "listening")
  --hostname HOST          Interface to listen on (default 0.0.0.0, all)
  --backend NAME           auto, webgpu, wasm or cpu (env LUMEN_BACKEND;
                           default auto: WebGPU on a real GPU, else WASM)
  --threads N              WASM threads (env LUMEN_THREADS; default: every
                           core)
  --batch N                Run up to N concurrent requests for the same layer
                           as one batched pass (default 1: off; it pays on a
                           GPU, not on WASM); raises --concurrency to N
  --model PATH             A TF.js layers model.json (default: the shipped
                           Keras ResNet-50)
  --labels PATH            Class labels, JSON array or {"0": "label", ...}
  --preprocessing MODE     caffe, tf or torch (default caffe)
  --allow-url-host HOST    Accept ImageInput.url for HOST (repeatable;
                           URL inputs are off without it)
  --allow-private-urls     Let URL inputs reach loopback, private and
                           link-local addresses (metadata stays refused)
  --plugin PATH            Import an explainer module (default export: an
                           Explainer or an array of them; repeatable)
  --production             GraphiQL and introspection off, errors masked
                           without details
  --graphiql               Serve GraphiQL even with --production
  --introspection          Answer introspection even with --production
  --log-level LEVEL        debug, info, warn or error (default info)
  --help                   Show this text

Limits (see RELIABILITY.md):
  --max-image-bytes N      Largest image, uploaded, base64 or fetched
                           (default 20971520, 20 MiB)
  --max-base64-chars N     Longest base64 image text (default 29360128)
  --max-pixels N           Largest decoded image, width x height, read from
                           the header before decoding (default 40000000)
  --max-request-bytes N    Largest HTTP request body (default 33554432)
  --max-query-tokens N     Most tokens in a GraphQL document (default 1000)
  --max-query-depth N      Deepest field nesting (default 20)
  --max-aliases N          Most aliases in one operation (default 15)
  --max-directives N       Most directives in one operation (default 50)
  --max-methods N          Most methods in one explainMany (default 16)
  --request-timeout-ms N   Time a request may take, queue wait included;
                           its work is then abandoned (default 60000)
  --concurrency N          Model jobs running at once (default 1)
  --max-queue N            Model jobs waiting; more answer OVERLOADED with
                           HTTP 503 (default 16)
  --url-timeout-ms N       Time limit for fetching a URL input (default 10000)
  --url-max-redirects N    Redirects followed for a URL input (default 3)
  --shutdown-grace-ms N    On SIGTERM/SIGINT, time in-flight work may take
                           before it is cancelled (default 20000)
`;

/** The server's configuration, from flags and environment. */
export interface Config {
  port: number;
  hostname: string;
  backend: EnginePreference;
  /** WASM threads; null: every core. */
  threads: number | null;
  /** Concurrent requests run as one batched pass (1: off). */
  batch: number;
  model: string | null;
  labels: string | null;
  preprocessing: PreprocessMode | null;
  allowUrlHosts: string[];
  allowPrivateUrls: boolean;
  plugins: string[];
  production: boolean;
  /** null: the mode's default (on, off with --production). */
  graphiql: boolean | null;
  /** null: the mode's default (on, off with --production). */
  introspection: boolean | null;
  logLevel: LogLevel;
  /** Every limit, defaults filled in. */
  limits: Limits;
  /** Time in-flight work may take after SIGTERM/SIGINT, ms. */
  shutdownGraceMs: number;
  help: boolean;
}

/** Integer flags: flag name, the `Limits` key it sets, its minimum. */
const LIMIT_FLAGS: readonly [string, keyof Limits, number][] = [
  ["max-image-bytes", "maxImageBytes", 1],
  ["max-base64-chars", "maxBase64Chars", 1],
  ["max-pixels", "maxPixels", 1],
  ["max-request-bytes", "maxRequestBytes", 1],
  ["max-query-tokens", "maxTokens", 1],
  ["max-query-depth", "maxDepth", 1],
  ["max-aliases", "maxAliases", 0],
  ["max-directives", "maxDirectives", 0],
  ["max-methods", "maxMethods", 1],
  ["request-timeout-ms", "requestTimeoutMs", 1],
  ["concurrency", "concurrency", 1],
  ["max-queue", "maxQueued", 0],
  ["url-timeout-ms", "urlTimeoutMs", 1],
  ["url-max-redirects", "urlMaxRedirects", 0],
];

/**
 * The default of `--shutdown-grace-ms`: in-flight work gets 20 s after
 * SIGTERM (inside Kubernetes' default 30 s termination grace period).
 *
 * @example
 * ```ts
 * parseConfig([], {}).shutdownGraceMs === DEFAULT_SHUTDOWN_GRACE_MS; // true
 * ```
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** A flag or environment value that cannot be used. */
export class UsageError extends Error {
  override name = "UsageError";
}

function integer(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(
      `Invalid --${flag} "${text}": use an integer of at least ${min}`,
    );
  }
  return value;
}

function oneOf<T extends string>(
  flag: string,
  value: string,
  valid: readonly T[],
): T {
  if (!(valid as readonly string[]).includes(value)) {
    throw new UsageError(
      `Invalid ${flag} "${value}": use ${valid.join(", ")}`,
    );
  }
  return value as T;
}

/**
 * Parses command-line flags, with `PORT` and `LUMEN_BACKEND` from `env` as
 * fallbacks. Throws {@linkcode UsageError} for unknown flags or bad values.
 *
 * @example
 * ```ts
 * parseConfig(["--port", "9000", "--backend", "wasm"], {}).port; // 9000
 * ```
 */
export function parseConfig(
  args: string[],
  env: Record<string, string | undefined>,
): Config {
  let values;
  try {
    ({ values } = parseArgs({
      // `deno task serve -- --port 9000` passes the "--" along: skip it.
      args: args[0] === "--" ? args.slice(1) : args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        backend: { type: "string" },
        threads: { type: "string" },
        batch: { type: "string" },
        model: { type: "string" },
        labels: { type: "string" },
        preprocessing: { type: "string" },
        "allow-url-host": { type: "string", multiple: true },
        "allow-private-urls": { type: "boolean" },
        plugin: { type: "string", multiple: true },
        production: { type: "boolean" },
        graphiql: { type: "boolean" },
        introspection: { type: "boolean" },
        "log-level": { type: "string" },
        "shutdown-grace-ms": { type: "string" },
        ...Object.fromEntries(
          LIMIT_FLAGS.map(([flag]) => [flag, { type: "string" as const }]),
        ),
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const portText = values.port ?? env.PORT ?? "8000";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`Invalid port "${portText}": use 0 to 65535`);
  }
  const backend = oneOf(
    values.backend !== undefined ? "--backend" : "LUMEN_BACKEND",
    values.backend ?? env.LUMEN_BACKEND ?? "auto",
    ENGINE_PREFERENCES,
  );
  const threadsText = values.threads ?? env.LUMEN_THREADS;
  const threads = threadsText === undefined ? null : integer(
    values.threads !== undefined ? "threads" : "LUMEN_THREADS",
    threadsText,
    1,
  );
  const preprocessing = values.preprocessing === undefined
    ? null
    : oneOf("--preprocessing", values.preprocessing, PREPROCESS_MODES);
  const hostname = values.hostname ?? "0.0.0.0";
  if (hostname === "") throw new UsageError("Invalid --hostname: empty");
  const allowUrlHosts = values["allow-url-host"] ?? [];
  if (allowUrlHosts.some((h) => h.trim() === "" || h.includes("/"))) {
    throw new UsageError(
      "Invalid --allow-url-host: give a host name, e.g. images.example.com",
    );
  }
  const limits: Limits = { ...DEFAULT_LIMITS };
  const given = values as Record<string, unknown>;
  for (const [flag, key, min] of LIMIT_FLAGS) {
    const text = given[flag];
    if (typeof text === "string") limits[key] = integer(flag, text, min);
  }
  const batch = values.batch === undefined
    ? 1
    : integer("batch", values.batch, 1);
  // A batch forms only from jobs running together.
  if (batch > 1 && given.concurrency === undefined) limits.concurrency = batch;
  const graceText = values["shutdown-grace-ms"];
  return {
    port,
    hostname,
    backend,
    threads,
    batch,
    model: values.model ?? null,
    labels: values.labels ?? null,
    preprocessing,
    allowUrlHosts,
    allowPrivateUrls: values["allow-private-urls"] ?? false,
    plugins: values.plugin ?? [],
    production: values.production ?? false,
    graphiql: values.graphiql ?? null,
    introspection: values.introspection ?? null,
    logLevel: oneOf("--log-level", values["log-level"] ?? "info", LOG_LEVELS),
    limits,
    shutdownGraceMs: graceText === undefined
      ? DEFAULT_SHUTDOWN_GRACE_MS
      : integer("shutdown-grace-ms", graceText, 0),
    help: values.help ?? false,
  };
}

function isExplainer(value: unknown): value is Explainer {
  const e = value as Explainer;
  return typeof e === "object" && e !== null && typeof e.name === "string" &&
    typeof e.description === "string" &&
    typeof e.needsGradients === "boolean" &&
    typeof e.parseParams === "function" && typeof e.explain === "function";
}

/**
 * Imports explainer plugins: each module's default export is an `Explainer`
 * or an array of them.
 *
 * @example
 * ```ts
 * const extra = await loadPlugins(["./my_cam.ts"]);
 * ```
 */
export async function loadPlugins(paths: string[]): Promise<Explainer[]> {
  const found: Explainer[] = [];
  for (const path of paths) {
    const module = await import(pathToFileURL(resolve(path)).href);
    const exported = module.default;
    const list = Array.isArray(exported) ? exported : [exported];
    if (list.length === 0 || !list.every(isExplainer)) {
      throw new Error(
        `Plugin ${path}: the default export must be an Explainer ({ name, description, needsGradients, parseParams, explain }) or an array of them`,
      );
    }
    found.push(...list);
  }
  return found;
}

async function startModel(
  config: Config,
  log: Logger,
): Promise<ModelRuntime> {
  const start = performance.now();
  const labels = config.labels === null
    ? undefined
    : parseLabels(await Deno.readTextFile(config.labels));
  const runtime = await loadModel({
    backend: config.backend,
    threads: config.threads ?? undefined,
    batchSize: config.batch,
    model: config.model ?? undefined,
    labels,
    preprocessing: config.preprocessing ?? undefined,
    log: (msg) => log("info", msg),
  });
  log("info", "model ready", {
    model: runtime.name,
    backend: runtime.backend.name,
    adapter: runtime.backend.adapter,
    threads: runtime.backend.threads,
    batch: runtime.batchSize,
    skipped: runtime.backend.skipped,
    loadMs: Math.round(performance.now() - start),
  });
  if (runtime.backend.name === "webgpu" && runtime.batchSize === 1) {
    log("info", "on a GPU, --batch 4 lets concurrent requests share a pass");
  }
  return runtime;
}

/** Starts the server; resolves when it has shut down. */
async function main(): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(Deno.args, {
      PORT: Deno.env.get("PORT"),
      LUMEN_BACKEND: Deno.env.get("LUMEN_BACKEND"),
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (config.help) {
    console.log(USAGE);
    return 0;
  }
  const log = jsonLogger({ level: config.logLevel });
  let registry;
  try {
    registry = createRegistry([
      ...builtinExplainers(),
      ...await loadPlugins(config.plugins),
    ]);
  } catch (error) {
    log("error", "cannot load explainers", { error });
    return 1;
  }

  let runtime: ModelRuntime | null = null;
  let loadError: string | null = null;
  // The model's files, read again for sanityCheck's randomized copy.
  const modelPath = config.model;
  const modelArtifacts: ArtifactsLoader = modelPath === null
    ? resnet50Artifacts
    : () => fileHandler(modelPath).load!();
  const app = createApp({
    runtime: () => runtime,
    loadError: () => loadError,
    registry,
    modelArtifacts,
    urlInputs: config.allowUrlHosts.length > 0
      ? {
        allowHosts: config.allowUrlHosts,
        allowPrivate: config.allowPrivateUrls,
      }
      : null,
    limits: config.limits,
    production: config.production,
    graphiql: config.graphiql ?? undefined,
    introspection: config.introspection ?? undefined,
    log,
  });
  // Not Deno.serve: see schema/serve.ts (client disconnects).
  let server;
  try {
    server = await serveHttp(app.fetch, {
      port: config.port,
      hostname: config.hostname,
      onListen: ({ hostname, port }) =>
        log("info", "listening", {
          url: `http://${hostname}:${port}/graphql`,
          hostname,
          port,
          production: config.production,
          explainers: registry.names,
          limits: config.limits,
        }),
    });
  } catch (error) {
    log("error", "cannot listen", {
      hostname: config.hostname,
      port: config.port,
      error,
    });
    return 1;
  }

  startModel(config, log).then(
    (loaded) => runtime = loaded,
    (error) => {
      loadError = (error as Error).message ?? String(error);
      log("error", "model failed to load", { error });
    },
  );

  let stopping = false;
  const stopped = Promise.withResolvers<void>();
  const stop = async (signal: string) => {
    if (stopping) {
      log("warn", "second signal: exiting without waiting", { signal });
      shutdownBackend();
      Deno.exit(1);
    }
    stopping = true;
    const graceMs = config.shutdownGraceMs;
    log("info", "shutting down: finishing in-flight requests", {
      signal,
      graceMs,
      running: app.queue.running,
      queued: app.queue.queued,
    });
    // Whatever still holds the process well after the grace period (a
    // client that never reads its response) does not keep it up.
    const hardStop = setTimeout(() => {
      log("error", "shutdown took too long: exiting", { signal });
      shutdownBackend();
      Deno.exit(1);
    }, graceMs + 10_000);
    Deno.unrefTimer(hardStop);
    const closed = server.shutdown();
    const { cancelled } = await app.drain({ graceMs });
    if (cancelled) log("warn", "in-flight work was cancelled", { graceMs });
    await closed;
    stopped.resolve();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => void stop(signal));
    } catch {
      // SIGTERM is not available on Windows.
    }
  }
  await stopped.promise;
  // WASM threads keep the process alive until the backend is removed.
  shutdownBackend();
  log("info", "stopped");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
