/**
 * Child Deno processes for the Redis tests, read line by line (JSON).
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** A child process printing JSON lines. */
export interface Child extends AsyncDisposable {
  readonly pid: number;
  /** Every JSON line printed so far. */
  readonly lines: readonly Record<string, unknown>[];
  /** Everything printed on stderr so far. */
  readonly stderr: () => string;
  /**
   * Resolves with the first line (past or future) that `predicate` accepts;
   * rejects if the process exits first or after 120 s (generous: a hang, not
   * a slow start on busy cores).
   */
  waitFor(
    predicate: (line: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
  /** Whether it has exited. */
  readonly exited: () => boolean;
  readonly status: Promise<Deno.CommandStatus>;
  kill(signal: Deno.Signal): void;
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  // Typed by hand: with the DOM library in the program, TextDecoderStream's
  // writable side is BufferSource, which a Uint8Array stream does not match.
  const decoder = new TextDecoderStream() as unknown as TransformStream<
    Uint8Array,
    string
  >;
  for await (const chunk of stream.pipeThrough(decoder)) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const part of parts) if (part.trim()) onLine(part);
  }
  if (rest.trim()) onLine(rest);
}

/**
 * Runs `tests/jobs/<script>` with net to 127.0.0.1 and env only.
 *
 * @example
 * ```ts
 * await using worker = spawnScript("_worker_process.ts", [redis.url, "{}"]);
 * await worker.waitFor((l) => l.event === "ready", "ready");
 * ```
 */
export function spawnScript(script: string, args: string[]): Child {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      // All a BullMQ client or worker needs (ioredis reads the environment).
      "--allow-net=127.0.0.1",
      "--allow-env",
      new URL(`tests/jobs/${script}`, ROOT).pathname,
      ...args,
    ],
    cwd: ROOT.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  let errors = "";
  let exited = false;
  const waiters = new Set<() => void>();
  const stdout = readLines(child.stdout, (line) => {
    try {
      lines.push(JSON.parse(line));
    } catch {
      errors += `stdout: ${line}\n`;
    }
    for (const waiter of waiters) waiter();
  });
  const stderr = readLines(child.stderr, (line) => errors += `${line}\n`);
  const status = child.status.then(async (status) => {
    await Promise.all([stdout, stderr]);
    exited = true;
    for (const waiter of waiters) waiter();
    return status;
  });
  return {
    pid: child.pid,
    lines,
    stderr: () => errors,
    exited: () => exited,
    status,
    waitFor(predicate, what) {
      return new Promise((resolve, reject) => {
        const done = () => {
          waiters.delete(check);
          clearTimeout(timer);
        };
        const check = () => {
          const found = lines.find(predicate);
          if (found) {
            done();
            resolve(found);
          } else if (exited) {
            done();
            reject(new Error(`${script} exited before ${what}:\n${errors}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${script}: no ${what} within 120 s:\n${errors}`));
        }, 120_000);
        waiters.add(check);
        check();
      });
    },
    kill(signal) {
      if (!exited) child.kill(signal);
    },
    async [Symbol.asyncDispose]() {
      if (!exited) child.kill("SIGKILL");
      await status;
    },
  };
}
