import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { writeTinyModel } from "./_shared.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

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
      "--allow-run=workers/model_worker.sh",
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
    // Draining: still listening, not ready, new work refused.
    await waitFor(async () =>
      (await fetch(`${server.base}/ready`).then((r) => r.status)) === 503
    );
    const late = await post();
    assert.equal(late.status, 503);
    assert.equal(
      (await late.json()).errors[0].extensions.code,
      "SHUTTING_DOWN",
    );
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
