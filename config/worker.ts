/**
 * What every process that runs the model is configured with — the server
 * and `deno task worker` alike: the model and engine flags and the worker
 * pool they describe. Plus the job worker's own command line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Registry } from "../explainers/mod.ts";
import {
  DEFAULT_MAX_PIXELS,
  type Logger,
  type LogLevel,
  PREPROCESS_MODES,
} from "../lib/mod.ts";
import {
  DEFAULT_WEIGHTS_CACHE,
  ENGINE_PREFERENCES,
  type EnginePreference,
  type ModelSpec,
} from "../models/mod.ts";
import type { PoolOptions, ServiceOptions } from "../workers/mod.ts";
import {
  bytes,
  fromFlagOrEnv,
  integer,
  oneOf,
  stringFlag as text,
  UsageError,
  type Values,
} from "./flags.ts";
import { JOB_OPTIONS, JOB_USAGE, parseJobSettings } from "./jobs.ts";
import { parseModelSpecs } from "./models.ts";
import type { JobSettings } from "../jobs/explanation/mod.ts";

/** `parseArgs` options of the model and engine flags. */
export const MODEL_OPTIONS = {
  backend: { type: "string" },
  threads: { type: "string" },
  batch: { type: "string" },
  model: { type: "string", multiple: true },
  labels: { type: "string" },
  preprocessing: { type: "string" },
  "max-model-bytes": { type: "string" },
  "max-model-memory": { type: "string" },
  plugin: { type: "string", multiple: true },
  "weights-cache": { type: "string" },
} as const;

/** The model runtime: which models, on which engine, within what memory. */
export interface ModelSettings {
  backend: EnginePreference;
  /** Engine threads per worker; null: every core. */
  threads: number | null;
  /** Concurrent requests run as one batched pass (1: off). */
  batch: number;
  /** The models, the default first. */
  models: ModelSpec[];
  /** Weights budget of a worker's loaded models, bytes; null: none. */
  maxModelBytes: number | null;
  /** Resident memory budget of a model worker, bytes. */
  maxModelMemory: number;
  plugins: string[];
  /**
   * The folder ONNX Runtime workers keep weights files in (`--weights-cache`);
   * null: in memory.
   */
  weightsCache: string | null;
}

/** The default of `--max-model-memory`: a worker stays near 1.25 GiB. */
export const DEFAULT_MAX_MODEL_MEMORY = 1280 * 1024 * 1024;

/**
 * The share of a worker's memory budget one batched pass may use (weights,
 * the engine's own buffers and the pass cache need the rest).
 */
const BATCH_SHARE = 0.35;

/**
 * The model settings from parsed flags, with `LUMEN_BACKEND`,
 * `LUMEN_THREADS` and `LUMEN_WEIGHTS_CACHE` from `env` as fallbacks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseModelSettings({ backend: "wasm", threads: "1" }, {}).threads, 1);
 * ```
 */
export function parseModelSettings(
  values: Values,
  env: Record<string, string | undefined>,
): ModelSettings {
  const backend = fromFlagOrEnv(
    { flag: "--backend", value: text(values, "backend") },
    { variable: "LUMEN_BACKEND", env },
  );
  const threads = fromFlagOrEnv(
    { flag: "--threads", value: text(values, "threads") },
    { variable: "LUMEN_THREADS", env },
  );
  const batch = text(values, "batch");
  const given = (values.model ?? []) as string[];
  const models = parseModelSpecs(given);
  const labels = text(values, "labels");
  const preprocessing = text(values, "preprocessing");
  if (labels !== undefined || preprocessing !== undefined) {
    if (given.length !== 1 || models[0].path === null) {
      throw new UsageError(
        "--labels and --preprocessing apply to a single --model; with several, give labels=… and preprocess=… in each --model",
      );
    }
    models[0].labels ??= labels ?? null;
    if (preprocessing !== undefined) {
      models[0].preprocess = oneOf("--preprocessing", preprocessing, {
        valid: PREPROCESS_MODES,
      });
    }
  }
  const cache = fromFlagOrEnv(
    { flag: "--weights-cache", value: text(values, "weights-cache") },
    { variable: "LUMEN_WEIGHTS_CACHE", env },
  );
  const modelBytes = text(values, "max-model-bytes");
  const modelMemory = text(values, "max-model-memory");
  return {
    backend: backend
      ? oneOf(backend.name, backend.text, { valid: ENGINE_PREFERENCES })
      : "auto",
    threads: threads ? integer(threads.name, threads.text, { min: 1 }) : null,
    batch: batch === undefined ? 1 : integer("--batch", batch, { min: 1 }),
    models,
    maxModelBytes: modelBytes === undefined
      ? null
      : bytes("--max-model-bytes", modelBytes),
    maxModelMemory: modelMemory === undefined
      ? DEFAULT_MAX_MODEL_MEMORY
      : bytes("--max-model-memory", modelMemory),
    plugins: (values.plugin ?? []) as string[],
    weightsCache: cache === null
      ? DEFAULT_WEIGHTS_CACHE
      : cache.text === "none"
      ? null
      : cache.text,
  };
}

/** What a model worker pool needs beyond the model settings. */
export interface PoolLimits {
  /** Model worker processes. */
  concurrency: number;
  /** Largest decoded image, width × height. */
  maxPixels: number;
  /** The service's cost limit per call (a job may pass its own). */
  maxPasses: number;
  /** Calls waiting in each lane of the service. */
  maxQueued: number;
}

/** {@linkcode modelPoolOptions}' limits, explainers and log. */
export interface PoolContext extends PoolLimits {
  /** The explainers the service checks requests against. */
  registry: Registry;
  log: Logger;
}

/**
 * The options of `createWorkerPool` for these settings: the server's pool
 * and a job worker's are built the same way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { silentLogger } from "../lib/mod.ts";
 * const settings = parseModelSettings({ threads: "1" }, {});
 * const [pool] = modelPoolOptions(settings, {
 *   concurrency: 2,
 *   maxPixels: 40_000_000,
 *   maxPasses: 10_000,
 *   maxQueued: 16,
 *   registry: createRegistry(),
 *   log: silentLogger,
 * });
 * assert.equal(pool.workers, 2);
 * // createWorkerPool(...modelPoolOptions(settings, context)) starts them
 * ```
 */
export function modelPoolOptions(
  settings: ModelSettings,
  context: PoolContext,
): [PoolOptions, ServiceOptions] {
  return [{
    config: {
      models: settings.models,
      engine: {
        backend: settings.backend,
        ...(settings.threads === null ? {} : { threads: settings.threads }),
        batchSize: settings.batch,
        weightsFolder: settings.weightsCache,
        batchBytes: Math.max(
          64 * 1024 * 1024,
          Math.floor(BATCH_SHARE * settings.maxModelMemory),
        ),
      },
      maxModelBytes: settings.maxModelBytes,
      maxPixels: context.maxPixels,
      plugins: settings.plugins,
    },
    workers: context.concurrency,
    maxWorkerMemory: settings.maxModelMemory,
    log: context.log,
  }, {
    modelNames: settings.models.map((m) => m.name),
    registry: context.registry,
    maxPasses: context.maxPasses,
    maxQueued: context.maxQueued,
  }];
}

/** Usage of `deno task worker`. */
export const WORKER_USAGE = `Usage: deno task worker --redis URL [FLAGS]

Runs explanation jobs from Redis with the model runtime (no HTTP API).
Start as many as you like, on as many machines; each takes jobs from the
same queue as the API replicas (deno task serve --redis URL) fill.
SIGTERM: stops taking jobs, lets running ones finish within the grace
period, then hands them back to the queue; exits 0.

Flags:
  --backend NAME           ${ENGINE_PREFERENCES.join(", ")} (env
                           LUMEN_BACKEND; default auto)
  --threads N              Engine threads per model worker (env
                           LUMEN_THREADS; default: every core)
  --batch N                Batched passes of concurrent calls (default 1)
  --model [NAME=]PATH[,labels=FILE][,preprocess=MODE][,layer=LAYER]
                           As the server's: give the same models
  --labels PATH            Labels of a single --model
  --preprocessing MODE     Preprocessing of a single --model
  --max-model-bytes N      Weights a model worker may hold (default: no limit)
  --max-model-memory N     Resident memory of a model worker (default 1280M)
  --plugin PATH            Import an explainer module (repeatable)
  --weights-cache DIR      As the server's (env LUMEN_WEIGHTS_CACHE; default
                           node_modules/.cache/lumen; none: in memory)
  --concurrency N          Model worker processes, and jobs run at once
                           (default 1)
  --max-pixels N           Largest decoded image (default ${DEFAULT_MAX_PIXELS})
  --shutdown-grace-ms N    On SIGTERM, time running jobs may take before they
                           go back to the queue (default 20000)
  --log-level LEVEL        debug, info, warn or error (default info)
  --help                   Show this text

${JOB_USAGE}`;

/** The job worker's configuration. */
export interface WorkerConfig extends ModelSettings {
  /** Model worker processes, and jobs run at once. */
  concurrency: number;
  maxPixels: number;
  jobs: JobSettings;
  shutdownGraceMs: number;
  logLevel: LogLevel;
  help: boolean;
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * Parses `deno task worker`'s flags; `--redis` (or `LUMEN_REDIS_URL`) is
 * required. Throws {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const argv = ["--redis", "redis://127.0.0.1:6379", "--threads", "1"];
 * assert.equal(parseWorkerConfig(argv, {}).threads, 1);
 * ```
 */
export function parseWorkerConfig(
  args: readonly string[],
  env: Record<string, string | undefined>,
): WorkerConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: args[0] === "--" ? args.slice(1) : [...args],
      strict: true,
      allowPositionals: false,
      options: {
        ...MODEL_OPTIONS,
        ...JOB_OPTIONS,
        concurrency: { type: "string" },
        "max-pixels": { type: "string" },
        "shutdown-grace-ms": { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const help = values.help ?? false;
  const jobs = parseJobSettings(values, env);
  if (jobs.redisUrl === null && !help) {
    throw new UsageError(
      "Missing --redis URL: a worker takes its jobs from Redis (or set LUMEN_REDIS_URL)",
    );
  }
  const grace = values["shutdown-grace-ms"];
  return {
    ...parseModelSettings(values, env),
    concurrency: values.concurrency === undefined
      ? 1
      : integer("--concurrency", values.concurrency, { min: 1 }),
    maxPixels: values["max-pixels"] === undefined
      ? DEFAULT_MAX_PIXELS
      : integer("--max-pixels", values["max-pixels"], { min: 1 }),
    jobs,
    shutdownGraceMs: grace === undefined
      ? 20_000
      : integer("--shutdown-grace-ms", grace, { min: 0 }),
    logLevel: oneOf("--log-level", values["log-level"] ?? "info", {
      valid: LOG_LEVELS,
    }),
    help,
  };
}
