/**
 * A Lumen fleet for tests, as real processes: API replicas (`main.ts`) and
 * job workers (`worker.ts`) with their model worker processes, on the tiny
 * network written as a TF.js `model.json`, with a `sleepy` explainer plugin
 * whose batches take a set time and log themselves (so tests see who runs
 * what, and when work stops). Plus GraphQL over HTTP and SSE.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fileURLToPath } from "node:url";
import { selectBackend } from "../../models/tfjs/backend.ts";
import { tinyResNet } from "../_shared.ts";

export { metric } from "../_server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Writes the tiny network as `model.json` + `weights.bin` in `dir`; the
 * path of `model.json`.
 */
export async function writeTinyModel(dir: string): Promise<string> {
  await selectBackend("cpu");
  const model = tinyResNet();
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    await Deno.writeFile(
      `${dir}/weights.bin`,
      new Uint8Array(artifacts.weightData as ArrayBuffer),
    );
    await Deno.writeTextFile(
      `${dir}/model.json`,
      JSON.stringify({
        format: "layers-model",
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{
          paths: ["weights.bin"],
          weights: artifacts.weightSpecs,
        }],
      }),
    );
    return {
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    };
  }));
  model.dispose();
  return `${dir}/model.json`;
}

/**
 * The `sleepy` explainer, as a plugin file in `dir`: `batches` batches of
 * `ms` each (options), checking its signal and reporting progress between
 * them. Each batch logs `sleepy batch` (with `tag`) as it starts; a stop
 * logs `sleepy stopped` with the batches started.
 */
export async function writeSleepyPlugin(dir: string): Promise<string> {
  const path = `${dir}/sleepy.js`;
  await Deno.writeTextFile(
    path,
    `const say = (msg, fields) =>
  console.error(JSON.stringify({ level: "info", msg, ...fields }));
export default {
  name: "sleepy",
  description: "Sleeps in batches, then returns a flat map",
  needsGradients: false,
  slow: true,
  parseParams: (raw) => ({
    batches: raw?.batches ?? 1,
    ms: raw?.ms ?? 100,
    tag: raw?.tag ?? "",
  }),
  cost: (params) => params.batches,
  async explain({ signal, onProgress }, { batches, ms, tag }) {
    for (let index = 0; index < batches; index++) {
      if (signal?.aborted) {
        say("sleepy stopped", { tag, started: index });
        throw signal.reason;
      }
      say("sleepy batch", { tag, index });
      await new Promise((resolve) => setTimeout(resolve, ms));
      onProgress?.((index + 1) / batches);
    }
    return { width: 2, height: 1, values: new Float32Array([0.25, 1]) };
  },
};
`,
  );
  return path;
}

/** A Lumen process printing JSON log lines on stderr. */
export interface LumenProcess extends AsyncDisposable {
  readonly name: string;
  readonly pid: number;
  /** Every log line so far. */
  readonly logs: Record<string, unknown>[];
  /** The first log line (past or future) `predicate` accepts. */
  waitFor(
    predicate: (line: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  readonly exited: () => boolean;
  kill(signal: Deno.Signal): void;
  /** The exit code, once it has exited. */
  readonly status: Promise<number>;
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
 * Starts `main.ts` or `worker.ts` with the permissions its task grants
 * (net only to 127.0.0.1), in the project root.
 */
export function spawnLumen(
  name: string,
  script: "main.ts" | "worker.ts",
  args: string[],
  env: Record<string, string> = {},
): LumenProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-run=workers/model_worker.sh",
      script,
      ...args,
    ],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  const read = readLines(child.stderr, (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      logs.push({ level: "raw", msg: line });
    }
    for (const waiter of waiters) waiter();
  });
  const status = child.status.then(async ({ code }) => {
    await read;
    exited = true;
    for (const waiter of waiters) waiter();
    return code;
  });
  return {
    name,
    pid: child.pid,
    logs,
    exited: () => exited,
    status,
    waitFor(predicate, what, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const done = () => {
          waiters.delete(check);
          clearTimeout(timer);
        };
        const check = () => {
          const found = logs.find(predicate);
          if (found) {
            done();
            resolve(found);
          } else if (exited) {
            done();
            reject(
              new Error(
                `${name} exited before ${what}: ${JSON.stringify(logs)}`,
              ),
            );
          }
        };
        // Generous: starting a Deno process and its model worker on two
        // busy cores has taken over 30 s.
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${what}: ${JSON.stringify(logs)}`));
        }, timeoutMs);
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

/** Starts an API replica; resolves with its base URL once its model is ready. */
export async function startApi(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ process: LumenProcess; base: string }> {
  const process = spawnLumen(name, "main.ts", [
    "--hostname",
    "127.0.0.1",
    "--port",
    "0",
    ...args,
  ], env);
  const listening = await process.waitFor(
    (l) => l.msg === "listening",
    "listening",
  );
  await process.waitFor((l) => l.msg === "model ready", "model ready");
  return { process, base: `http://127.0.0.1:${listening.port}` };
}

/** A GraphQL response body. */
export interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A GraphQL POST to `base`: status, headers and body. */
export async function gql(
  base: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; body: Body }> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: await response.json(),
  };
}

/** The `next` payloads of a subscription over SSE, until `complete`. */
export async function sse(
  base: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Body[]> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    body: JSON.stringify({ query, variables }),
  });
  const results: Body[] = [];
  let completed = false;
  for (const block of (await response.text()).split("\n\n")) {
    const lines = block.split("\n").filter((l) => !l.startsWith(":"));
    const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim();
    const data = lines.filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trim()).join("\n");
    if (event === "next") results.push(JSON.parse(data));
    if (event === "complete") completed = true;
  }
  if (!completed) throw new Error(`SSE stream did not complete: ${results}`);
  return results;
}

/** Polls `condition` every 50 ms until it holds; throws after `timeoutMs`. */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
