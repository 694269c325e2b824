/**
 * Child processes of the jobs figure (redis-server, API replicas, workers):
 * started in the project root, their JSON log lines kept, stopped politely.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** A child process whose stderr is read as JSON log lines. */
export interface Proc {
  child: Deno.ChildProcess;
  logs: Record<string, unknown>[];
  /** The first log line with this `msg`; rejects after `ms` or when the process exits. */
  waitFor(msg: string, ms?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after 30 s. */
  stop(): Promise<void>;
}

/**
 * A loopback port free right now.
 *
 * @example
 * ```ts
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts `command` in the project root with its stderr read as JSON log
 * lines (other text kept as `{ msg }`).
 *
 * @example
 * ```ts
 * const redis = spawn("redis-server", ["--port", String(freePort())]);
 * await redis.stop();
 * ```
 */
export function spawn(command: string, args: string[], env = {}): Proc {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  let exited = false;
  (async () => {
    let rest = "";
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ msg: line });
        }
      }
    }
  })();
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    child,
    logs,
    async waitFor(msg, ms = 300_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const found = logs.find((l) => l.msg === msg);
        if (found) return found;
        if (exited) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `${args.join(" ")}: no "${msg}": ${JSON.stringify(logs)}`,
      );
    },
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 30_000);
      await status;
      clearTimeout(timer);
    },
  };
}
