/**
 * A real `redis-server` (Debian's package) for tests: started on a free
 * loopback port with persistence off, so a restart comes back empty, like a
 * Redis that lost its memory. Needs `--allow-run` and net to 127.0.0.1.
 *
 * @module
 */

/** A running test Redis. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and waits for it to exit; idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: persistence is off). */
  restart(): Promise<void>;
  /** Stops it for good; same as `stop`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves once the server answers PING on `port`, else throws after `ms`. */
async function waitForPong(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buffer = new Uint8Array(16);
        const n = await conn.read(buffer);
        const reply = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
        if (reply.startsWith("+PONG")) return;
        last = new Error(`Unexpected reply ${JSON.stringify(reply)}`);
      } finally {
        conn.close();
      }
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING`, {
    cause: last,
  });
}

function spawnRedis(port: number, dir: string): Deno.ChildProcess {
  return new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--loglevel",
      "warning",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/**
 * Starts `redis-server` on a free loopback port and waits until it answers.
 *
 * @example
 * ```ts
 * await using redis = await startRedis();
 * const jobs = redisJobs(redis.url);
 * ```
 */
export async function startRedis(): Promise<TestRedis> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "lumen-redis-" });
  let child: Deno.ChildProcess | null = null;
  const start = async () => {
    child = spawnRedis(port, dir);
    await waitForPong(port, 10_000);
  };
  const stop = async () => {
    const running: Deno.ChildProcess | null = child;
    child = null;
    if (!running) return;
    try {
      running.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await running.status;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
