/**
 * Redis connections for the job system, all made by BullMQ from options:
 * commands that fail fast (API calls answer `UNAVAILABLE` instead of
 * hanging), and blocking ones that wait and reconnect (workers, events).
 *
 * @module
 */
import type { ConnectionOptions, Queue, RedisOptions } from "bullmq";
import { isClientError, type Logger } from "../lib/mod.ts";
import { unavailable } from "./_errors.ts";

/**
 * ioredis's `Redis` class type as BullMQ's types carry it (deno.json maps
 * `bullmq`, not `ioredis`). The client BullMQ hands out forwards every
 * ioredis command, though its own interface names only the ones it uses.
 */
export type RedisCommands = Exclude<
  Extract<ConnectionOptions, { publish: unknown }>,
  { slots: unknown }
>;

/** Reconnects quickly and forever: Redis may come back at any time. */
function retryStrategy(times: number): number {
  return Math.min(100 * times, 2_000);
}

/**
 * Options of a connection whose commands fail at once while Redis is away
 * (no offline queue) and time out after `timeoutMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // new Queue("jobs", { connection: commandConnection(url, 1_000) })
 * const options = commandConnection("redis://127.0.0.1:6379", 1_000);
 * assert.equal(options.enableOfflineQueue, false); // fail at once while away
 * assert.equal(options.commandTimeout, 1_000);
 * ```
 */
export function commandConnection(
  url: string,
  timeoutMs: number,
): RedisOptions {
  return {
    url,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1_000),
    retryStrategy,
  };
}

/**
 * Options of a connection that may block (workers, QueueEvents): commands
 * wait while Redis is away and go out when it is back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // new QueueEvents("jobs", { connection: blockingConnection(url) })
 * const options = blockingConnection("redis://127.0.0.1:6379");
 * assert.equal(options.maxRetriesPerRequest, null); // wait for Redis to come back
 * ```
 */
export function blockingConnection(url: string): RedisOptions {
  return { url, maxRetriesPerRequest: null, retryStrategy };
}

/**
 * Whether `error` says Redis could not be reached or answered too late.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isConnectionError(new Error("connect ECONNREFUSED 127.0.0.1:6379")), true);
 * assert.equal(isConnectionError(new TypeError("x is undefined")), false);
 * ```
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "MaxRetriesPerRequestError" ||
    error.name === "ConnectionClosedError" ||
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|Stream isn't writeable|Command timed out/
      .test(error.message);
}

/**
 * Runs Redis operations for API calls: waits at most `timeoutMs` for the
 * connection and for the operation, and turns connection failures into
 * `UNAVAILABLE`.
 */
export interface Guard {
  /** Runs `operation` with the raw client once it is ready. */
  run<T>(operation: (redis: RedisCommands) => Promise<T>): Promise<T>;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unavailable(new Error(`No answer within ${ms} ms`))),
      ms,
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function ready(redis: RedisCommands, ms: number): Promise<void> {
  if (redis.status === "ready") return;
  let onReady = () => {};
  try {
    await within(
      new Promise<void>((resolve) => {
        onReady = resolve;
        redis.once("ready", onReady);
      }),
      ms,
    );
  } finally {
    redis.off("ready", onReady);
  }
}

/**
 * A guard over `queue`'s connection (see {@linkcode Guard}).
 *
 * @example
 * ```ts ignore
 * // Needs Redis: `queue` is a BullMQ Queue on it.
 * const guard = guardOf(queue, 1_000);
 * await guard.run((redis) => redis.ping()); // or throws UNAVAILABLE
 * ```
 */
export function guardOf(queue: Queue, timeoutMs: number): Guard {
  // BullMQ resolves `client` after the first connection; until then every
  // call waits for it, at most timeoutMs.
  const client = queue.client as Promise<unknown> as Promise<RedisCommands>;
  client.catch(() => {});
  return {
    async run(operation) {
      try {
        const redis = await within(client, timeoutMs);
        await ready(redis, timeoutMs);
        return await within(operation(redis), timeoutMs);
      } catch (error) {
        if (isClientError(error)) throw error;
        if (isConnectionError(error)) throw unavailable(error);
        throw error;
      }
    },
  };
}

/**
 * An error listener that logs at most one error every 5 s: while Redis is
 * away, BullMQ reports the same error in a loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const onError = throttled((_, msg) => lines.push(msg), "job queue error");
 * // queue.on("error", onError): BullMQ repeats the error while Redis is away
 * onError(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
 * onError(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
 * assert.deepEqual(lines, ["job queue error"]); // once per 5 s
 * ```
 */
export function throttled(
  log: Logger,
  msg: string,
): (error: Error) => void {
  let last = 0;
  return (error) => {
    if (Date.now() - last < 5_000) return;
    last = Date.now();
    log("warn", msg, { error });
  };
}
