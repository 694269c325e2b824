/**
 * The server as a process: main.ts started the way `deno task serve` runs
 * it (its permissions, its worker processes), its JSON log collected.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { denoTask, metricsAt } from "../tools/bench/server.ts";
import { writeTinyModel } from "./_shared.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A running main.ts. */
export interface Server {
  base: string;
  child: Deno.ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code; all logs read. */
  exited: Promise<number>;
}

/** Where and on what model to start the server. */
export interface StartOptions {
  /** A temp folder for the tiny model; needed with `tiny`. */
  dir?: string;
  /** The tiny network (TF.js, 32×32) instead of the shipped ResNet-50. */
  tiny?: boolean;
  /** @default 60 s */
  readyTimeoutMs?: number;
  /** Environment variables added to the server's (which it inherits). */
  env?: Record<string, string>;
}

/**
 * Starts main.ts as `deno task serve` would (narrow permissions, workers
 * included) on a free loopback port; resolves once the model is ready.
 */
export async function startServer(
  options: StartOptions,
  flags: string[],
): Promise<Server> {
  const model = options.tiny
    ? ["--model", await writeTinyModel(options.dir!), "--preprocessing", "tf"]
    : [];
  // The serve task's own permissions; a tiny model in a temp folder is
  // readable too.
  const serve = await denoTask("serve");
  const args = serve.args.map((a: string) =>
    a === "--allow-read=." && options.dir ? `--allow-read=.,${options.dir}` : a
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...args,
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
      ...(options.tiny ? ["--backend", "wasm"] : []),
      ...model,
      ...flags,
    ],
    cwd: ROOT,
    env: { ...serve.env, ...options.env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const ready = Promise.withResolvers<string>();
  const exited = (async () => {
    let rest = "";
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      rest += text;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { level: "raw", msg: line };
        }
        logs.push(entry);
        if (entry.msg === "model ready") {
          const listening = logs.find((l) => l.msg === "listening");
          ready.resolve(`http://127.0.0.1:${listening?.port}`);
        }
      }
    }
    const { code } = await child.status;
    ready.reject(
      new Error(`main.ts exited (${code}): ${JSON.stringify(logs)}`),
    );
    return code;
  })();
  const timer = setTimeout(
    () => ready.reject(new Error(`main.ts not ready: ${JSON.stringify(logs)}`)),
    options.readyTimeoutMs ?? 60_000,
  );
  try {
    return { base: await ready.promise, child, logs, exited };
  } finally {
    clearTimeout(timer);
  }
}

/** A metric's value (the first sample with that exact name; NaN if none). */
export async function metric(base: string, name: string): Promise<number> {
  return (await metricsAt(base, [name]))[0];
}

/** Polls `condition` every 20 ms for at most 10 s. */
export async function waitFor(
  condition: () => Promise<boolean>,
): Promise<void> {
  const end = performance.now() + 10_000;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error("Timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
