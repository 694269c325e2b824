import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_SHUTDOWN_GRACE_MS,
  loadPlugins,
  parseConfig,
  UsageError,
} from "../main.ts";
import { selectBackend } from "../models/tfjs/backend.ts";
import { DEFAULT_LIMITS } from "../schema/context.ts";
import { tinyResNet } from "./_shared.ts";

Deno.test("parseConfig: defaults, flags and environment", () => {
  const defaults = parseConfig([], {});
  assert.equal(defaults.port, 8000);
  assert.equal(defaults.hostname, "0.0.0.0");
  assert.equal(defaults.backend, "auto");
  assert.deepEqual(defaults.allowUrlHosts, []);
  assert.equal(defaults.allowPrivateUrls, false);
  assert.deepEqual(defaults.limits, DEFAULT_LIMITS);
  assert.equal(defaults.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS);
  assert.equal(defaults.production, false);
  assert.equal(defaults.graphiql, null);
  assert.equal(defaults.introspection, null);
  assert.equal(defaults.logLevel, "info");
  assert.equal(defaults.threads, null);

  const env = parseConfig([], {
    PORT: "9001",
    LUMEN_BACKEND: "cpu",
    LUMEN_THREADS: "1",
  });
  assert.equal(env.port, 9001);
  assert.equal(env.backend, "cpu");
  assert.equal(env.threads, 1);
  assert.equal(parseConfig(["--threads", "2"], {}).threads, 2);
  assert.equal(defaults.batch, 1);
  const batched = parseConfig(["--batch", "4"], {});
  assert.equal(batched.batch, 4);
  assert.equal(batched.limits.concurrency, 4);
  const explicit = parseConfig(["--batch", "4", "--concurrency", "2"], {});
  assert.equal(explicit.limits.concurrency, 2);

  const flags = parseConfig([
    "--",
    "--port",
    "0",
    "--backend=wasm",
    "--allow-url-host",
    "a.example",
    "--allow-url-host",
    "b.example",
    "--allow-private-urls",
    "--plugin",
    "x.ts",
    "--preprocessing",
    "torch",
  ], { PORT: "9001", LUMEN_BACKEND: "cpu" });
  assert.equal(flags.port, 0);
  assert.equal(flags.backend, "wasm");
  assert.deepEqual(flags.allowUrlHosts, ["a.example", "b.example"]);
  assert.equal(flags.allowPrivateUrls, true);
  assert.deepEqual(flags.plugins, ["x.ts"]);
  assert.equal(flags.preprocessing, "torch");
});

Deno.test("parseConfig: bad flags are usage errors", () => {
  for (
    const args of [
      ["--nope"],
      ["--port", "http"],
      ["--port", "70000"],
      ["--threads", "0"],
      ["--batch", "0"],
      ["--backend", "tpu"],
      ["--preprocessing", "none"],
      ["--allow-url-host", "http://x/"],
      ["stray"],
      ["--concurrency", "0"],
      ["--max-queue", "-1"],
      ["--max-image-bytes", "20MB"],
      ["--request-timeout-ms", "1.5"],
      ["--shutdown-grace-ms", "soon"],
      ["--log-level", "loud"],
    ]
  ) {
    assert.throws(() => parseConfig(args, {}), UsageError, args.join(" "));
  }
  assert.throws(
    () => parseConfig([], { LUMEN_BACKEND: "gpu" }),
    /LUMEN_BACKEND/,
  );
});

Deno.test("parseConfig: limits, production and shutdown flags", () => {
  const config = parseConfig([
    "--max-image-bytes=1000",
    "--max-base64-chars",
    "2000",
    "--max-pixels",
    "3000",
    "--max-request-bytes",
    "4000",
    "--max-query-tokens",
    "50",
    "--max-query-depth",
    "6",
    "--max-aliases",
    "0",
    "--max-directives",
    "7",
    "--max-methods",
    "2",
    "--request-timeout-ms",
    "500",
    "--concurrency",
    "2",
    "--max-queue",
    "0",
    "--url-timeout-ms",
    "100",
    "--url-max-redirects",
    "0",
    "--shutdown-grace-ms",
    "0",
    "--production",
    "--graphiql",
    "--log-level",
    "warn",
  ], {});
  assert.deepEqual(config.limits, {
    maxImageBytes: 1000,
    maxBase64Chars: 2000,
    maxPixels: 3000,
    maxRequestBytes: 4000,
    maxTokens: 50,
    maxDepth: 6,
    maxAliases: 0,
    maxDirectives: 7,
    maxMethods: 2,
    requestTimeoutMs: 500,
    concurrency: 2,
    maxQueued: 0,
    urlTimeoutMs: 100,
    urlMaxRedirects: 0,
  });
  assert.equal(config.shutdownGraceMs, 0);
  assert.equal(config.production, true);
  assert.equal(config.graphiql, true);
  assert.equal(config.introspection, null);
  assert.equal(config.logLevel, "warn");
});

Deno.test("loadPlugins imports explainers from modules", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen_plugins_" });
  try {
    const good = `${dir}/flat.js`;
    await Deno.writeTextFile(
      good,
      `export default [{
        name: "flat", description: "All ones", needsGradients: false,
        parseParams: () => ({}),
        explain: ({ pass }) => ({ width: 1, height: 1, values: new Float32Array([1]) }),
      }];`,
    );
    const bad = `${dir}/bad.js`;
    await Deno.writeTextFile(bad, `export default { name: "bad" };`);
    const loaded = await loadPlugins([good]);
    assert.deepEqual(loaded.map((e) => e.name), ["flat"]);
    await assert.rejects(
      loadPlugins([bad]),
      /default export must be an Explainer/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Writes the tiny network as a model.json + weights in `dir`. */
async function writeTinyModel(dir: string): Promise<string> {
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

/** An explainer plugin that takes `ms` (or until its signal aborts). */
function sleepyPlugin(ms: number): string {
  return `export default {
    name: "sleepy",
    description: "Sleeps, then returns a flat map",
    needsGradients: false,
    parseParams: () => ({}),
    explain: ({ signal }) => new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => resolve({ width: 1, height: 1, values: new Float32Array([1]) }),
        ${ms},
      );
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }),
  };`;
}

interface Server {
  base: string;
  child: Deno.ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code; all logs read. */
  exited: Promise<number>;
}

/** Starts main.ts on the tiny model; resolves once the model is ready. */
async function startServer(dir: string, flags: string[]): Promise<Server> {
  const model = await writeTinyModel(dir);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "main.ts",
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
      "--backend",
      "wasm",
      "--model",
      model,
      "--preprocessing",
      "tf",
      ...flags,
    ],
    cwd: ROOT,
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
    30_000,
  );
  try {
    return { base: await ready.promise, child, logs, exited };
  } finally {
    clearTimeout(timer);
  }
}

async function tinyPngBase64(): Promise<string> {
  const { encodePng } = await import("../lib/render.ts");
  const { encodeBase64 } = await import("../lib/base64.ts");
  return encodeBase64(await encodePng(8, 8, new Uint8Array(8 * 8 * 3)));
}

const SLEEPY = `query($b: String!) {
  explain(image: { base64: $b }, method: "sleepy") { label map { width } }
}`;

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const end = performance.now() + 10_000;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error("Timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("SIGTERM with requests in flight: they finish, then main.ts exits 0", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-main-" });
  try {
    await Deno.writeTextFile(`${dir}/sleepy.js`, sleepyPlugin(300));
    const server = await startServer(dir, [
      "--plugin",
      `${dir}/sleepy.js`,
      "--shutdown-grace-ms",
      "10000",
    ]);
    const b = await tinyPngBase64();
    const post = () =>
      fetch(`${server.base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: SLEEPY, variables: { b } }),
      });
    const inFlight = [post(), post(), post()];
    await waitFor(async () =>
      await metric(server.base, "lumen_queue_running") === 1 &&
      await metric(server.base, "lumen_queue_length") === 2
    );
    server.child.kill("SIGTERM");
    for (const response of await Promise.all(inFlight)) {
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.equal(body.data.explain.map.width, 1);
    }
    assert.equal(await server.exited, 0);
    const messages = server.logs.map((l) => l.msg);
    assert.ok(messages.includes("shutting down: finishing in-flight requests"));
    assert.ok(messages.includes("stopped"), JSON.stringify(server.logs));
    assert.ok(!messages.includes("in-flight work was cancelled"));
    // Nothing listens any more.
    await assert.rejects(fetch(`${server.base}/health`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM past the grace period: work is cancelled, main.ts still exits 0", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-main-" });
  try {
    await Deno.writeTextFile(`${dir}/sleepy.js`, sleepyPlugin(60_000));
    const server = await startServer(dir, [
      "--plugin",
      `${dir}/sleepy.js`,
      "--shutdown-grace-ms",
      "200",
    ]);
    const b = await tinyPngBase64();
    const stuck = fetch(`${server.base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: SLEEPY, variables: { b } }),
    });
    await waitFor(async () =>
      await metric(server.base, "lumen_queue_running") === 1
    );
    const start = performance.now();
    server.child.kill("SIGTERM");
    const response = await stuck;
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.errors[0].extensions.code, "SHUTTING_DOWN");
    assert.equal(await server.exited, 0);
    assert.ok(performance.now() - start < 5000);
    assert.ok(
      server.logs.some((l) => l.msg === "in-flight work was cancelled"),
      JSON.stringify(server.logs),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
