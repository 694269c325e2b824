/**
 * A Lumen job worker: takes explanation jobs from Redis and runs them with
 * the same model runtime as the server (supervised model worker processes,
 * the same model, engine and thread flags), serving no HTTP. Run as many as
 * you like, on as many machines. Logs are JSON lines, as the server's.
 *
 * SIGTERM / SIGINT: stops taking jobs, lets running ones finish within the
 * grace period, then hands them back to the queue (another worker runs
 * them; no attempt is counted), releases the model and exits 0. A second
 * signal exits 1 at once. A worker killed outright leaves its job to the
 * others after its lock lapses (retried up to `--job-attempts`).
 *
 * ```sh
 * deno task worker --redis redis://127.0.0.1:6379 --threads 1
 * ```
 *
 * @module
 */
import {
  modelPoolOptions,
  parseWorkerConfig,
  UsageError,
  WORKER_USAGE,
  type WorkerConfig,
} from "./config/mod.ts";
import { loadPlugins } from "./explainers/plugins.ts";
import { builtinExplainers, createRegistry } from "./explainers/registry.ts";
import { openExplanationJobs } from "./jobs/explanation/mod.ts";
import { jsonLogger } from "./lib/log.ts";
import { createWorkerPool } from "./workers/mod.ts";

/** Time a shutdown may run past its grace period before the process exits 1. */
const EXIT_WATCHDOG_MS = 10_000;

/** Calls waiting in each lane of the worker's own service (only jobs use it). */
const SERVICE_QUEUE = 16;

/** Runs the worker; resolves with the exit status once it has stopped. */
async function main(): Promise<number> {
  let config: WorkerConfig;
  try {
    config = parseWorkerConfig(Deno.args, Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${WORKER_USAGE}`);
    return 2;
  }
  if (config.help) {
    console.log(WORKER_USAGE);
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
  const service = createWorkerPool(...modelPoolOptions(config, {
    concurrency: config.concurrency,
    maxPixels: config.maxPixels,
    maxPasses: config.jobs.maxPasses,
    maxQueued: SERVICE_QUEUE,
    registry,
    log,
  }));
  try {
    const model = await service.ready();
    log("info", "model ready", { model: model.name, backend: model.backend });
  } catch (error) {
    log("error", "model failed to load", { error });
    await service.close();
    return 1;
  }
  // Only now: a worker takes no job it could not run.
  const jobs = openExplanationJobs(config.jobs, {
    runHere: { service, registry, concurrency: config.concurrency },
    log,
  });
  log("info", "taking jobs", {
    concurrency: config.concurrency,
    models: config.models.map((m) => m.name),
    explainers: registry.names,
    redis: new URL(config.jobs.redisUrl!).host,
  });

  let stopping = false;
  const stopped = Promise.withResolvers<void>();
  const stop = async (signal: string) => {
    if (stopping) {
      log("error", "second signal: exiting without waiting", { signal });
      Deno.exit(1);
    }
    stopping = true;
    const graceMs = config.shutdownGraceMs;
    log("info", "shutting down: finishing running jobs", { signal, graceMs });
    const watchdog = setTimeout(() => {
      log("error", "shutdown took too long: exiting", { signal });
      Deno.exit(1);
    }, graceMs + EXIT_WATCHDOG_MS);
    Deno.unrefTimer(watchdog);
    await jobs.close({ graceMs });
    await service.close();
    stopped.resolve();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void stop(signal));
  }
  await stopped.promise;
  log("info", "stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
