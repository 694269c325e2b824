import assert from "node:assert/strict";
import { metric, startServer, waitFor } from "./_server.ts";

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

async function tinyPngBase64(): Promise<string> {
  const { encodePng } = await import("../lib/render.ts");
  const { encodeBase64 } = await import("../lib/base64.ts");
  return encodeBase64(await encodePng(8, 8, new Uint8Array(8 * 8 * 3)));
}

const SLEEPY = `query($b: String!) {
  explain(image: { base64: $b }, method: "sleepy") { label map { width } }
}`;

Deno.test("SIGTERM with requests in flight: they finish, then main.ts exits 0", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-main-" });
  try {
    await Deno.writeTextFile(`${dir}/sleepy.js`, sleepyPlugin(300));
    const server = await startServer({ dir, tiny: true }, [
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
    const server = await startServer({ dir, tiny: true }, [
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
