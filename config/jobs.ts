/**
 * The job flags, shared by the server and `deno task worker`: where jobs
 * live (embedded or Redis), how long they are kept and may run, how many
 * may wait.
 *
 * @module
 */
import {
  DEFAULT_JOB_SETTINGS,
  type JobSettings,
} from "../jobs/explanation/mod.ts";
import {
  fromFlagOrEnv,
  integer,
  stringFlag as text,
  UsageError,
  type Values,
} from "./flags.ts";

/** `parseArgs` options of the job flags. */
export const JOB_OPTIONS = {
  redis: { type: "string" },
  "job-ttl": { type: "string" },
  "job-timeout-ms": { type: "string" },
  "max-jobs-queued": { type: "string" },
  "max-job-passes": { type: "string" },
  "job-attempts": { type: "string" },
} as const;

/** Usage lines of the job flags (the server's and the worker's). */
export const JOB_USAGE = `Jobs (see README, "Jobs and scaling out"):
  --redis URL              Keep jobs in Redis (redis://HOST:PORT[/DB]; env
                           LUMEN_REDIS_URL) so that API replicas and workers
                           (deno task worker) share them; default: embedded,
                           jobs run in this process and die with it
  --job-ttl D              How long finished jobs and results are kept: 1h,
                           60m, 3600s, 500ms, or a number of milliseconds
                           (default 1h)
  --job-timeout-ms N       Time limit of one job attempt (default ${DEFAULT_JOB_SETTINGS.timeoutMs})
  --max-jobs-queued N      Jobs waiting (fleet-wide on Redis); more answer
                           OVERLOADED (default ${DEFAULT_JOB_SETTINGS.maxQueued})
  --max-job-passes N       Most model passes one job may cost, checked before
                           it is queued (default ${DEFAULT_JOB_SETTINGS.maxPasses})
  --job-attempts N         Times a job may start when its worker dies or its
                           model worker crashes (default ${DEFAULT_JOB_SETTINGS.attempts})
  Tests shorten Redis lock timings with the environment: LUMEN_JOB_LOCK_MS
  (default ${DEFAULT_JOB_SETTINGS.lockMs}) and LUMEN_JOB_STALLED_CHECK_MS (default ${DEFAULT_JOB_SETTINGS.stalledCheckMs}).
`;

/**
 * A duration: an integer with a unit (`ms`, `s`, `m`, `h`), or a bare
 * integer of milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(duration("--job-ttl", "1h"), 3_600_000);
 * assert.equal(duration("--job-ttl", "2500"), 2_500);
 * ```
 */
export function duration(flag: string, text: string): number {
  const match = /^(\d+)\s*(ms|s|m|h)?$/.exec(text.trim());
  const scale: Record<string, number> = {
    "": 1,
    ms: 1,
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
  };
  const value = match ? Number(match[1]) * scale[match[2] ?? ""] : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(
      `Invalid ${flag} "${text}": use a duration such as 1h, 60m, 3600s or milliseconds`,
    );
  }
  return value;
}

/**
 * The job settings from parsed flags, with `LUMEN_REDIS_URL` (and the test
 * timings `LUMEN_JOB_LOCK_MS`, `LUMEN_JOB_STALLED_CHECK_MS`) from `env`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const settings = parseJobSettings(
 *   { redis: "redis://127.0.0.1:6379", "job-ttl": "10m" },
 *   {},
 * );
 * assert.equal(settings.ttlMs, 600_000);
 * ```
 */
export function parseJobSettings(
  values: Values,
  env: Record<string, string | undefined>,
): JobSettings {
  const redis = fromFlagOrEnv(
    { flag: "--redis", value: text(values, "redis") },
    { variable: "LUMEN_REDIS_URL", env },
  );
  let redisUrl: string | null = null;
  if (redis) {
    let url: URL | null = null;
    try {
      url = new URL(redis.text);
    } catch {
      // Reported below.
    }
    if (!url || !["redis:", "rediss:"].includes(url.protocol)) {
      throw new UsageError(
        `Invalid ${redis.name} "${redis.text}": use redis://HOST:PORT or rediss://HOST:PORT`,
      );
    }
    redisUrl = redis.text;
  }
  const number = (flag: string, min: number, fallback: number) => {
    const given = text(values, flag);
    return given === undefined
      ? fallback
      : integer(`--${flag}`, given, { min });
  };
  const fromEnv = (name: string, fallback: number) =>
    env[name] === undefined ? fallback : integer(name, env[name]!, { min: 1 });
  const ttl = text(values, "job-ttl");
  const d = DEFAULT_JOB_SETTINGS;
  return {
    redisUrl,
    ttlMs: ttl === undefined ? d.ttlMs : duration("--job-ttl", ttl),
    timeoutMs: number("job-timeout-ms", 1, d.timeoutMs),
    maxQueued: number("max-jobs-queued", 0, d.maxQueued),
    maxPasses: number("max-job-passes", 1, d.maxPasses),
    attempts: number("job-attempts", 1, d.attempts),
    lockMs: fromEnv("LUMEN_JOB_LOCK_MS", d.lockMs),
    stalledCheckMs: fromEnv("LUMEN_JOB_STALLED_CHECK_MS", d.stalledCheckMs),
  };
}
