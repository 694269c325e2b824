/**
 * The Lumen server: reads its configuration, starts serving at once (so
 * `/health` answers while the model loads), starts the model in its worker
 * processes, and shuts down gracefully on SIGINT / SIGTERM: `/ready`
 * answers 503 and new model work `SHUTTING_DOWN` while in-flight work
 * finishes within the grace period (then it is cancelled); then it stops
 * listening, stops the workers and exits 0. Explanation jobs run here
 * (embedded) or are queued in Redis (`--redis`) for `deno task worker`. A second signal exits 1 at
 * once; a shutdown still running 10 s after the grace period exits 1.
 *
 * ```sh
 * deno task serve --port 8000
 * ```
 *
 * @module
 */
import {
  modelPoolOptions,
  parseServerConfig,
  type ServerConfig,
  USAGE,
  UsageError,
} from "./config/mod.ts";
import { loadPlugins } from "./explainers/plugins.ts";
import { builtinExplainers, createRegistry } from "./explainers/registry.ts";
import { openExplanationJobs } from "./jobs/explanation/mod.ts";
import { jsonLogger } from "./lib/log.ts";
import { createApp, serveHttp } from "./server/mod.ts";
import { createWorkerPool } from "./workers/mod.ts";

/**
 * Time a shutdown may run past its grace period before the process exits 1;
 * `LUMEN_EXIT_WATCHDOG_MS` overrides it (tests use a short one).
 */
export const EXIT_WATCHDOG_MS = 10_000;

/** Starts the server; resolves with the exit status once it has stopped. */
async function main(): Promise<number> {
  let config: ServerConfig;
  const env = Deno.env.toObject();
  try {
    config = parseServerConfig(Deno.args, env);
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
  // The model runs in supervised worker processes.
  const service = createWorkerPool(...modelPoolOptions(config, {
    concurrency: config.limits.concurrency,
    maxPixels: config.limits.maxPixels,
    maxPasses: config.limits.maxRequestPasses,
    maxQueued: config.limits.maxQueued,
    registry,
    log,
  }));
  // Embedded, this process runs the jobs on its own model workers (jobs and
  // requests share the cost lanes); on Redis, `deno task worker` runs them.
  const embedded = config.jobs.redisUrl === null;
  const jobs = openExplanationJobs(config.jobs, {
    ...(embedded
      ? {
        runHere: { service, registry, concurrency: config.limits.concurrency },
      }
      : {}),
    log,
  });
  const app = createApp({
    service,
    registry,
    urlInputs: config.allowUrlHosts.length > 0
      ? {
        allowHosts: config.allowUrlHosts,
        allowPrivate: config.allowPrivateUrls,
      }
      : null,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
    production: config.production,
    ...(config.graphiql === null ? {} : { graphiql: config.graphiql }),
    ...(config.introspection === null
      ? {}
      : { introspection: config.introspection }),
    jobs,
    log,
  });
  let server;
  try {
    server = await serveHttp(app.fetch, {
      port: config.port,
      hostname: config.hostname,
      bodyTimeoutMs: config.limits.bodyTimeoutMs,
      maxRequestBytes: config.limits.maxRequestBytes,
      onListen: ({ hostname, port }) =>
        log("info", "listening", {
          url: `http://${hostname}:${port}/graphql`,
          hostname,
          port,
          production: config.production,
          models: config.models.map((m) => m.name),
          explainers: registry.names,
          limits: config.limits,
          jobs: embedded ? "embedded" : "redis",
        }),
    });
  } catch (error) {
    log("error", "cannot listen", { port: config.port, error });
    await jobs.close({ graceMs: 0 });
    await service.close();
    return 1;
  }
  service.ready().then(
    (model) =>
      log("info", "model ready", { model: model.name, backend: model.backend }),
    (error) => log("error", "model failed to load", { error }),
  );

  let stopping = false;
  const stopped = Promise.withResolvers<void>();
  const exitNow = (why: string, fields: Record<string, unknown>) => {
    log("error", why, fields);
    Deno.exit(1);
  };
  const stop = async (signal: string) => {
    if (stopping) {
      return exitNow("second signal: exiting without waiting", { signal });
    }
    stopping = true;
    const graceMs = config.shutdownGraceMs;
    log("info", "shutting down: finishing in-flight requests", {
      signal,
      graceMs,
    });
    // Whatever still holds the process well after the grace period (a
    // client that never reads its response) does not keep it up.
    const watchdog = setTimeout(
      () => exitNow("shutdown took too long: exiting", { signal }),
      graceMs + (Number(env.LUMEN_EXIT_WATCHDOG_MS) || EXIT_WATCHDOG_MS),
    );
    Deno.unrefTimer(watchdog);
    // Still listening while draining: probes see /ready answer 503 and new
    // model work is refused with SHUTTING_DOWN; then the listener closes.
    // Closing the job queue ends its followers' streams; embedded jobs
    // still running after the grace period fail with SHUTTING_DOWN.
    const [{ cancelled }] = await Promise.all([
      app.drain({ graceMs }),
      jobs.close({ graceMs }),
    ]);
    if (cancelled) log("warn", "in-flight work was cancelled", { graceMs });
    await Promise.all([server.shutdown(), service.close()]);
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
