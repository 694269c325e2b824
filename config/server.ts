/**
 * The server's configuration: flags and environment, checked, with the
 * usage text printed by `--help` and after a bad flag.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { JobSettings } from "../jobs/explanation/mod.ts";
import { type LogLevel, PREPROCESS_MODES } from "../lib/mod.ts";
import { ENGINE_PREFERENCES } from "../models/mod.ts";
import { DEFAULT_LIMITS, type Limits } from "../schema/mod.ts";
import { checkOrigin } from "../server/mod.ts";
import { fromFlagOrEnv, integer, oneOf, UsageError } from "./flags.ts";
import { JOB_OPTIONS, JOB_USAGE, parseJobSettings } from "./jobs.ts";
import {
  MODEL_OPTIONS,
  type ModelSettings,
  parseModelSettings,
} from "./worker.ts";

/** Usage text, printed by `--help` and after a bad flag. */
export const USAGE = `Usage: deno task serve [FLAGS]

Flags:
  --port N                 Port to listen on (env PORT; default 8000; 0 picks
                           a free one, logged as "listening")
  --hostname HOST          Interface to listen on (default 0.0.0.0, all)
  --backend NAME           ${ENGINE_PREFERENCES.join(", ")} (env
                           LUMEN_BACKEND; default auto: WebGPU on a real GPU,
                           else ONNX Runtime, else WASM, else CPU)
  --threads N              Engine threads per worker (env LUMEN_THREADS;
                           default: every core)
  --batch N                Run up to N concurrent requests for the same layer
                           as one batched pass (default 1: off; it pays on a
                           GPU, not on a CPU)
  --model [NAME=]PATH[,labels=FILE][,preprocess=MODE][,layer=LAYER]
                           Serve a model: an .onnx file or a TF.js model.json
                           (repeatable; the first is the default; none: the
                           shipped Keras ResNet-50). MODE: ${
  PREPROCESS_MODES.join(", ")
}
  --labels PATH            Labels of a single --model given without options
  --preprocessing MODE     Preprocessing of a single --model, likewise
  --max-model-bytes N      Weights the loaded models of a worker may hold
                           together; the least recently used idle one is
                           released past it (default: no limit)
  --weights-cache DIR      Where ONNX Runtime workers keep each model's
                           weights, as a file they read instead of holding
                           (env LUMEN_WEIGHTS_CACHE; default
                           node_modules/.cache/lumen; none: in memory)
  --allow-url-host HOST    Accept ImageInput.url for HOST (repeatable;
                           URL inputs are off without it)
  --allow-private-urls     Let URL inputs reach loopback, private and
                           link-local addresses (metadata stays refused)
  --cors-origin ORIGIN     Let pages from ORIGIN call the API (repeatable;
                           default: none, same origin only; never credentials)
  --plugin PATH            Import an explainer module (default export: an
                           Explainer or an array of them; repeatable)
  --production             GraphiQL and introspection off
  --graphiql               Serve GraphiQL even with --production
  --introspection          Answer introspection even with --production
  --log-level LEVEL        debug, info, warn or error (default info)
  --help                   Show this text

Model workers (see RELIABILITY.md):
  --concurrency N          Model worker processes (default 1); each runs one
                           expensive and one cheap request at a time
  --max-model-memory N     Resident memory a model worker may reach (bytes,
                           or 1536M, 2G; default 1280M): batches are sized
                           within it, and a worker past it is replaced
                           between requests
  --max-request-passes N   Most model passes one request may cost, estimated
                           before it runs (default ${DEFAULT_LIMITS.maxRequestPasses})
  --max-queue N            Requests waiting in each lane (cheap, expensive);
                           more answer OVERLOADED with HTTP 503 (default ${DEFAULT_LIMITS.maxQueued})

Limits (see RELIABILITY.md):
  --max-image-bytes N      Largest image, uploaded, base64 or fetched
                           (default ${DEFAULT_LIMITS.maxImageBytes}, 20 MiB)
  --max-base64-chars N     Longest base64 image text (default ${DEFAULT_LIMITS.maxBase64Chars})
  --max-pixels N           Largest decoded image, width x height, read from
                           the header before decoding (default ${DEFAULT_LIMITS.maxPixels})
  --max-request-bytes N    Largest HTTP request body (default ${DEFAULT_LIMITS.maxRequestBytes})
  --body-timeout-ms N      Time to receive a request body (default ${DEFAULT_LIMITS.bodyTimeoutMs})
  --max-query-tokens N     Most tokens in a GraphQL document (default ${DEFAULT_LIMITS.maxTokens})
  --max-query-depth N      Deepest field nesting (default ${DEFAULT_LIMITS.maxDepth})
  --max-aliases N          Most aliases in one operation (default ${DEFAULT_LIMITS.maxAliases})
  --max-directives N       Most directives in one operation (default ${DEFAULT_LIMITS.maxDirectives})
  --max-methods N          Most methods in one explainMany (default ${DEFAULT_LIMITS.maxMethods})
  --request-timeout-ms N   Time a request may take, queue wait included;
                           its work is then stopped (default ${DEFAULT_LIMITS.requestTimeoutMs})
  --url-timeout-ms N       Time limit for fetching a URL input (default ${DEFAULT_LIMITS.urlTimeoutMs})
  --url-max-redirects N    Redirects followed for a URL input (default ${DEFAULT_LIMITS.urlMaxRedirects})
  --shutdown-grace-ms N    On SIGTERM/SIGINT, time in-flight work may take
                           before it is cancelled (default 20000)

${JOB_USAGE}`;

/** The server's configuration, from flags and environment. */
export interface ServerConfig extends ModelSettings {
  port: number;
  hostname: string;
  allowUrlHosts: string[];
  allowPrivateUrls: boolean;
  corsOrigins: string[];
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
  /** Explanation jobs: embedded, or on Redis. */
  jobs: JobSettings;
  help: boolean;
}

/** Integer flags: flag name, the `Limits` key it sets, its minimum. */
const LIMIT_FLAGS: readonly [string, keyof Limits, number][] = [
  ["max-image-bytes", "maxImageBytes", 1],
  ["max-base64-chars", "maxBase64Chars", 1],
  ["max-pixels", "maxPixels", 1],
  ["max-request-bytes", "maxRequestBytes", 1],
  ["body-timeout-ms", "bodyTimeoutMs", 1],
  ["max-query-tokens", "maxTokens", 1],
  ["max-query-depth", "maxDepth", 1],
  ["max-aliases", "maxAliases", 0],
  ["max-directives", "maxDirectives", 0],
  ["max-methods", "maxMethods", 1],
  ["request-timeout-ms", "requestTimeoutMs", 1],
  ["concurrency", "concurrency", 1],
  ["max-queue", "maxQueued", 0],
  ["max-request-passes", "maxRequestPasses", 1],
  ["url-timeout-ms", "urlTimeoutMs", 1],
  ["url-max-redirects", "urlMaxRedirects", 0],
];

/**
 * The default of `--shutdown-grace-ms`: in-flight work gets 20 s after
 * SIGTERM (inside Kubernetes' default 30 s termination grace period).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseServerConfig([], {}).shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS);
 * ```
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * Parses the server's flags, with `PORT`, `LUMEN_BACKEND`, `LUMEN_THREADS`
 * and `LUMEN_REDIS_URL` from `env` as fallbacks. Throws {@linkcode UsageError}
 * for unknown flags or bad values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const config = parseServerConfig(["--port", "9000", "--backend", "wasm"], {});
 * assert.equal(config.port, 9000);
 * assert.equal(config.backend, "wasm");
 * ```
 */
export function parseServerConfig(
  args: readonly string[],
  env: Record<string, string | undefined>,
): ServerConfig {
  let values;
  try {
    ({ values } = parseArgs({
      // `deno task serve -- --port 9000` passes the "--" along: skip it.
      args: args[0] === "--" ? args.slice(1) : [...args],
      strict: true,
      allowPositionals: false,
      options: {
        ...MODEL_OPTIONS,
        ...JOB_OPTIONS,
        port: { type: "string" },
        hostname: { type: "string" },
        "allow-url-host": { type: "string", multiple: true },
        "allow-private-urls": { type: "boolean" },
        "cors-origin": { type: "string", multiple: true },
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
  const port = fromFlagOrEnv(
    { flag: "--port", value: values.port },
    { variable: "PORT", env },
  );
  const hostname = values.hostname ?? "0.0.0.0";
  if (hostname === "") throw new UsageError("Invalid --hostname: empty");
  const allowUrlHosts = values["allow-url-host"] ?? [];
  if (allowUrlHosts.some((h) => h.trim() === "" || h.includes("/"))) {
    throw new UsageError(
      "Invalid --allow-url-host: give a host name, e.g. images.example.com",
    );
  }
  const corsOrigins = (values["cors-origin"] ?? []).map((origin) => {
    try {
      return checkOrigin(origin);
    } catch (error) {
      throw new UsageError(`--cors-origin: ${(error as Error).message}`);
    }
  });
  const limits: Limits = { ...DEFAULT_LIMITS };
  const given = values as Record<string, unknown>;
  for (const [flag, key, min] of LIMIT_FLAGS) {
    const text = given[flag];
    if (typeof text === "string") {
      limits[key] = integer(`--${flag}`, text, { min });
    }
  }
  const graceText = values["shutdown-grace-ms"];
  return {
    ...parseModelSettings(values, env),
    port: port ? integer(port.name, port.text, { min: 0, max: 65535 }) : 8000,
    hostname,
    allowUrlHosts,
    allowPrivateUrls: values["allow-private-urls"] ?? false,
    corsOrigins,
    production: values.production ?? false,
    graphiql: values.graphiql ?? null,
    introspection: values.introspection ?? null,
    logLevel: oneOf("--log-level", values["log-level"] ?? "info", {
      valid: LOG_LEVELS,
    }),
    limits,
    shutdownGraceMs: graceText === undefined
      ? DEFAULT_SHUTDOWN_GRACE_MS
      : integer("--shutdown-grace-ms", graceText, { min: 0 }),
    jobs: parseJobSettings(values, env),
    help: values.help ?? false,
  };
}
