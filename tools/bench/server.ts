/**
 * A real Lumen server for the HTTP figures: `main.ts` started as
 * `deno task serve` starts it (same permissions), on a free loopback port,
 * with a chosen engine and thread count; its cold start timed to the first
 * `/ready` 200.
 *
 * @module
 */

import { DENO } from "./system.ts";

/**
 * One GraphQL POST to `base`; its data, or an error carrying its errors.
 *
 * @example
 * ```ts ignore
 * const data = await graphqlAt("http://127.0.0.1:8000", "{ explainers { name } }", {});
 * ```
 */
export async function graphqlAt(
  base: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/**
 * Values from the Prometheus text at `${base}/metrics`, one scrape: for each
 * name, its first sample named exactly so (NaN when there is none).
 *
 * @example
 * ```ts ignore
 * const [rss, cpu] = await metricsAt("http://127.0.0.1:8000", [
 *   "process_resident_memory_bytes",
 *   "process_cpu_seconds_total",
 * ]);
 * ```
 */
export async function metricsAt(
  base: string,
  names: readonly string[],
): Promise<number[]> {
  const lines = (await (await fetch(`${base}/metrics`)).text()).split("\n");
  return names.map((name) => {
    const line = lines.find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.slice(name.length + 1));
  });
}

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * What `deno task <name>` runs, from deno.json: the environment it sets
 * (`NAME=value` words before the command) and Deno's arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { env, args } = await denoTask("serve");
 * assert.equal(env.GLIBC_TUNABLES, "glibc.malloc.hugetlb=1");
 * assert.deepEqual(args.slice(0, 2), ["run", "--allow-read=."]);
 * ```
 */
export async function denoTask(
  name: string,
): Promise<{ env: Record<string, string>; args: string[] }> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const task = config.tasks[name];
  const words: string[] = (typeof task === "string" ? task : task.command)
    .split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [key, ...value] = words.shift()!.split("=");
    env[key] = value.join("=");
  }
  if (words.shift() !== "deno") {
    throw new Error(`The ${name} task does not start with deno`);
  }
  return { env, args: words };
}

/** A running server. */
export interface LumenServer {
  /** `http://127.0.0.1:PORT` */
  base: string;
  /** Spawn to the first `/ready` 200, ms. */
  coldStartMs: number;
  /** What `/ready` said (model, backend). */
  ready: Record<string, unknown>;
  /** POSTs a GraphQL query; rejects on GraphQL errors. */
  graphql(
    query: string,
    variables: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Options of {@linkcode startServer}. */
export interface ServerOptions {
  /** `--backend`. @default "onnxruntime" */
  backend?: string;
  /** `--threads`. */
  threads: number;
  /** Longest wait for `/ready`, ms. @default 120000 */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `main.ts` and waits until it is ready. Its log lines go nowhere
 * but the port it listens on, read from its "listening" line.
 *
 * @example
 * ```ts
 * const server = await startServer({ threads: 2 });
 * try { await server.graphql("{ explainers { name } }", {}); } finally { await server.stop(); }
 * ```
 */
export async function startServer(
  options: ServerOptions,
): Promise<LumenServer> {
  const serve = await denoTask("serve");
  const start = performance.now();
  const child = new Deno.Command(DENO, {
    args: [
      ...serve.args,
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
      "--backend",
      options.backend ?? "onnxruntime",
      "--threads",
      String(options.threads),
      // "listening" (with the port) is an info line.
      "--log-level",
      "info",
    ],
    cwd: ROOT,
    env: serve.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const port = Promise.withResolvers<number>();
  (async () => {
    let rest = "";
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 50) lines.shift();
        try {
          const entry = JSON.parse(line);
          if (entry.msg === "listening") port.resolve(entry.port);
        } catch { /* not JSON */ }
      }
    }
    port.reject(new Error(`main.ts exited: ${lines.slice(-5).join("\n")}`));
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  const deadline = start + (options.timeoutMs ?? 120_000);
  const timer = setTimeout(
    () => port.reject(new Error("main.ts did not listen in time")),
    deadline - performance.now(),
  );
  try {
    const base = `http://127.0.0.1:${await port.promise}`;
    clearTimeout(timer);
    let ready: Record<string, unknown> | null = null;
    while (!ready) {
      if (performance.now() > deadline) {
        throw new Error(`main.ts not ready: ${lines.slice(-5).join("\n")}`);
      }
      const r = await fetch(`${base}/ready`);
      const body = await r.json();
      if (r.ok) ready = body;
      else if (body.status === "failed") {
        throw new Error(`main.ts failed to load: ${JSON.stringify(body)}`);
      } else await sleep(20);
    }
    const coldStartMs = performance.now() - start;
    return {
      base,
      coldStartMs,
      ready,
      graphql: (query, variables) => graphqlAt(base, query, variables),
      stop,
    };
  } catch (error) {
    clearTimeout(timer);
    await stop();
    throw error;
  }
}
