import assert from "node:assert/strict";
import {
  duration,
  modelPoolOptions,
  parseServerConfig,
  parseWorkerConfig,
  UsageError,
} from "../../config/mod.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { DEFAULT_JOB_SETTINGS } from "../../jobs/explanation/mod.ts";
import { DEFAULT_WEIGHTS_CACHE } from "../../models/mod.ts";

Deno.test("duration: units and bare milliseconds", () => {
  assert.equal(duration("--job-ttl", "1h"), 3_600_000);
  assert.equal(duration("--job-ttl", "60m"), 3_600_000);
  assert.equal(duration("--job-ttl", "3600s"), 3_600_000);
  assert.equal(duration("--job-ttl", "250ms"), 250);
  assert.equal(duration("--job-ttl", "2500"), 2500);
  for (const text of ["", "0", "1d", "1.5h", "-1s", "soon"]) {
    assert.throws(() => duration("--job-ttl", text), UsageError, text);
  }
});

Deno.test("job flags: defaults (embedded), flags, LUMEN_REDIS_URL and test timings from the environment", () => {
  assert.deepEqual(parseServerConfig([], {}).jobs, DEFAULT_JOB_SETTINGS);
  const jobs = parseServerConfig([
    "--redis",
    "redis://10.0.0.5:6379/2",
    "--job-ttl",
    "10m",
    "--job-timeout-ms",
    "1000",
    "--max-jobs-queued",
    "0",
    "--max-job-passes",
    "20000",
    "--job-attempts",
    "3",
  ], { LUMEN_JOB_LOCK_MS: "2000", LUMEN_JOB_STALLED_CHECK_MS: "500" }).jobs;
  assert.deepEqual(jobs, {
    redisUrl: "redis://10.0.0.5:6379/2",
    ttlMs: 600_000,
    timeoutMs: 1000,
    maxQueued: 0,
    maxPasses: 20_000,
    attempts: 3,
    lockMs: 2000,
    stalledCheckMs: 500,
  });
  assert.equal(
    parseServerConfig([], { LUMEN_REDIS_URL: "rediss://r:6380" }).jobs.redisUrl,
    "rediss://r:6380",
  );
  for (
    const args of [
      ["--redis", "http://r:6379"],
      ["--redis", "r:6379"],
      ["--job-ttl", "1d"],
      ["--job-attempts", "0"],
      ["--max-job-passes", "0"],
      ["--job-timeout-ms", "fast"],
    ]
  ) {
    assert.throws(
      () => parseServerConfig(args, {}),
      UsageError,
      args.join(" "),
    );
  }
  assert.throws(
    () => parseServerConfig([], { LUMEN_JOB_LOCK_MS: "0" }),
    /LUMEN_JOB_LOCK_MS/,
  );
});

Deno.test("parseWorkerConfig: the server's model flags, the job flags, --redis required", () => {
  const config = parseWorkerConfig([
    "--",
    "--redis",
    "redis://127.0.0.1:6379",
    "--backend",
    "wasm",
    "--threads",
    "1",
    "--model",
    "tiny/model.json",
    "--preprocessing",
    "tf",
    "--concurrency",
    "2",
    "--max-model-memory",
    "2G",
    "--shutdown-grace-ms",
    "0",
    "--log-level",
    "warn",
  ], {});
  assert.equal(config.backend, "wasm");
  assert.equal(config.threads, 1);
  assert.equal(config.concurrency, 2);
  assert.equal(config.models[0].preprocess, "tf");
  assert.equal(config.maxModelMemory, 2 * 1024 ** 3);
  assert.equal(config.jobs.redisUrl, "redis://127.0.0.1:6379");
  assert.equal(config.shutdownGraceMs, 0);
  assert.equal(config.logLevel, "warn");
  // The same model flags give the same settings as the server's.
  const server = parseServerConfig(["--backend", "wasm", "--threads", "1"], {});
  const worker = parseWorkerConfig(
    ["--redis", "redis://r", "--backend", "wasm", "--threads", "1"],
    {},
  );
  for (const key of ["backend", "threads", "batch", "models"] as const) {
    assert.deepEqual(worker[key], server[key], key);
  }
  assert.equal(
    parseWorkerConfig([], { LUMEN_REDIS_URL: "redis://r" }).jobs.redisUrl,
    "redis://r",
  );
  assert.equal(parseWorkerConfig(["--help"], {}).help, true);
  for (
    const args of [[], ["--port", "8000", "--redis", "redis://r"], [
      "--redis",
      "redis://r",
      "--concurrency",
      "0",
    ]]
  ) {
    assert.throws(
      () => parseWorkerConfig(args, {}),
      UsageError,
      args.join(" "),
    );
  }
});

Deno.test("modelPoolOptions: one worker pool shape for the server and the job worker", () => {
  const config = parseServerConfig(["--threads", "1", "--batch", "2"], {});
  const registry = createRegistry();
  const [pool, service] = modelPoolOptions(config, {
    concurrency: 2,
    maxPixels: 1000,
    maxPasses: 10,
    maxQueued: 3,
    registry,
    log: () => {},
  });
  assert.equal(pool.workers, 2);
  assert.equal(pool.config.engine.threads, 1);
  assert.equal(pool.config.engine.batchSize, 2);
  assert.equal(pool.config.maxPixels, 1000);
  assert.equal(pool.maxWorkerMemory, config.maxModelMemory);
  assert.deepEqual(service.modelNames, ["resnet50"]);
  assert.equal(service.maxPasses, 10);
  assert.equal(service.maxQueued, 3);
});

Deno.test("--weights-cache: the project's cache by default, a folder, LUMEN_WEIGHTS_CACHE, none; the pool's workers get it", () => {
  const settings = (args: string[], env: Record<string, string> = {}) =>
    parseServerConfig(args, env).weightsCache;
  assert.equal(settings([]), DEFAULT_WEIGHTS_CACHE);
  assert.match(DEFAULT_WEIGHTS_CACHE, /\/node_modules\/\.cache\/lumen\/$/);
  assert.equal(
    settings(["--weights-cache", "/var/cache/lumen"]),
    "/var/cache/lumen",
  );
  assert.equal(settings([], { LUMEN_WEIGHTS_CACHE: "/srv/w" }), "/srv/w");
  assert.equal(
    settings(["--weights-cache", "/a"], { LUMEN_WEIGHTS_CACHE: "/b" }),
    "/a",
  );
  assert.equal(settings(["--weights-cache", "none"]), null);
  const config = parseServerConfig(["--weights-cache", "/var/cache/lumen"], {});
  const [pool] = modelPoolOptions(config, {
    concurrency: 1,
    maxPixels: 1000,
    maxPasses: 10,
    maxQueued: 1,
    registry: createRegistry(),
    log: () => {},
  });
  assert.equal(pool.config.engine.weightsFolder, "/var/cache/lumen");
});
