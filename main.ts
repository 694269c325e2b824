/**
 * The Lumen server: reads flags and environment, starts `Deno.serve` at once
 * (so `/health` answers while the model loads), loads the model in the
 * background, and shuts down gracefully on SIGINT / SIGTERM.
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
import type { Explainer } from "./explainers/types.ts";
import { PREPROCESS_MODES, type PreprocessMode } from "./lib/preprocess.ts";
import {
  BACKEND_PREFERENCES,
  type BackendPreference,
} from "./models/backend.ts";
import { loadModel, type ModelRuntime, parseLabels } from "./models/runtime.ts";
import { createApp } from "./schema/mod.ts";
import { jsonLogger, type Logger } from "./schema/mod.ts";

/** Usage text, printed by `--help` and after a bad flag. */
export const USAGE = `Usage: deno task serve [FLAGS]
   or: deno run --allow-read=. --allow-env --allow-net main.ts [FLAGS]

Flags:
  --port N                 Port to listen on (env PORT; default 8000)
  --hostname HOST          Interface to listen on (default 0.0.0.0, all)
  --backend NAME           auto, webgpu, wasm or cpu (env LUMEN_BACKEND;
                           default auto: WebGPU on a real GPU, else WASM)
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
  --help                   Show this text
`;

/** The server's configuration, from flags and environment. */
export interface Config {
  port: number;
  hostname: string;
  backend: BackendPreference;
  model: string | null;
  labels: string | null;
  preprocessing: PreprocessMode | null;
  allowUrlHosts: string[];
  allowPrivateUrls: boolean;
  plugins: string[];
  help: boolean;
}

/** A flag or environment value that cannot be used. */
export class UsageError extends Error {
  override name = "UsageError";
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
        model: { type: "string" },
        labels: { type: "string" },
        preprocessing: { type: "string" },
        "allow-url-host": { type: "string", multiple: true },
        "allow-private-urls": { type: "boolean" },
        plugin: { type: "string", multiple: true },
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
    BACKEND_PREFERENCES,
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
  return {
    port,
    hostname,
    backend,
    model: values.model ?? null,
    labels: values.labels ?? null,
    preprocessing,
    allowUrlHosts,
    allowPrivateUrls: values["allow-private-urls"] ?? false,
    plugins: values.plugin ?? [],
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
    model: config.model ?? undefined,
    labels,
    preprocessing: config.preprocessing ?? undefined,
    log: (msg) => log("info", msg),
  });
  log("info", "model ready", {
    model: runtime.name,
    backend: runtime.backend.name,
    adapter: runtime.backend.adapter,
    skipped: runtime.backend.skipped,
    loadMs: Math.round(performance.now() - start),
  });
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
  const log = jsonLogger();
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
  const app = createApp({
    runtime: () => runtime,
    loadError: () => loadError,
    registry,
    urlInputs: config.allowUrlHosts.length > 0
      ? {
        allowHosts: config.allowUrlHosts,
        allowPrivate: config.allowPrivateUrls,
      }
      : null,
    log,
  });
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) =>
      log("info", "listening", {
        url: `http://${hostname}:${port}/graphql`,
        hostname,
        port,
        explainers: registry.names,
      }),
  }, app.fetch);

  startModel(config, log).then(
    (loaded) => runtime = loaded,
    (error) => {
      loadError = (error as Error).message ?? String(error);
      log("error", "model failed to load", { error });
    },
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log("warn", "second signal: exiting without waiting", { signal });
      Deno.exit(1);
    }
    stopping = true;
    log("info", "shutting down: finishing in-flight requests", { signal });
    server.shutdown();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => stop(signal));
    } catch {
      // SIGTERM is not available on Windows.
    }
  }
  await server.finished;
  log("info", "stopped");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
