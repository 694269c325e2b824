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

/** An explainer plugin that takes `ms` whatever happens: it ignores aborts. */
function stubbornPlugin(ms: number): string {
  return `export default {
    name: "sleepy",
    description: "Sleeps, ignoring aborts, then returns a flat map",
    needsGradients: false,
    parseParams: () => ({}),
    explain: () => new Promise((resolve) => setTimeout(
      () => resolve({ width: 1, height: 1, values: new Float32Array([1]) }),
      ${ms},
    )),
  };`;
}

async function tinyPngBase64(): Promise<string> {
  const { encodePng } = await import("../lib/render.ts");
  const { encodeBase64 } = await import("../lib/base64.ts");
  return encodeBase64(
    await encodePng({
      width: 8,
      height: 8,
      data: new Uint8Array(8 * 8 * 3),
    }),
  );
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
    // Far below the plugin's 60 s: the work was cancelled, not waited for
    // (a generous bound: starting and stopping take seconds on 2 busy cores).
    assert.ok(performance.now() - start < 30_000);
    assert.ok(
      server.logs.some((l) => l.msg === "in-flight work was cancelled"),
      JSON.stringify(server.logs),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts main.ts on the tiny model with `plugin` as "sleepy". */
async function serverWith(
  dir: string,
  plugin: string,
  flags: string[],
  env?: Record<string, string>,
) {
  await Deno.writeTextFile(`${dir}/sleepy.js`, plugin);
  const server = await startServer(
    { dir, tiny: true, ...(env ? { env } : {}) },
    [
      "--plugin",
      `${dir}/sleepy.js`,
      ...flags,
    ],
  );
  const b = await tinyPngBase64();
  const post = () =>
    fetch(`${server.base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: SLEEPY, variables: { b } }),
    });
  return { server, post };
}

/** The exit code, or a failure (the child killed) if it takes over `ms`. */
async function exitWithin(
  server: Awaited<ReturnType<typeof startServer>>,
  ms: number,
  what: string,
): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  const code = await Promise.race([server.exited, late]);
  clearTimeout(timer);
  if (code === "late") {
    server.child.kill("SIGKILL");
    await server.exited;
    assert.fail(`${what}: main.ts still running after ${ms} ms`);
  }
  return code;
}

Deno.test("SIGINT with a request in flight: it finishes, then main.ts exits 0", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-main-" });
  try {
    const { server, post } = await serverWith(dir, sleepyPlugin(300), [
      "--shutdown-grace-ms",
      "10000",
    ]);
    const inFlight = post();
    await waitFor(async () =>
      await metric(server.base, "lumen_queue_running") === 1
    );
    server.child.kill("SIGINT");
    const response = await inFlight;
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data.explain.map.width, 1);
    assert.equal(await server.exited, 0);
    const shutting = server.logs.find((l) =>
      l.msg === "shutting down: finishing in-flight requests"
    );
    assert.equal(shutting?.signal, "SIGINT", JSON.stringify(server.logs));
    assert.ok(server.logs.some((l) => l.msg === "stopped"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second signal exits 1 at once, without waiting for in-flight work", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-main-" });
  try {
    // Work and grace period of a minute: only the second signal can end it.
    const { server, post } = await serverWith(dir, sleepyPlugin(60_000), [
      "--shutdown-grace-ms",
      "60000",
    ]);
    const stuck = post().then(
      (response) => `answered ${response.status}`,
      () => "no answer",
    );
    await waitFor(async () =>
      await metric(server.base, "lumen_queue_running") === 1
    );
    server.child.kill("SIGTERM");
    await waitFor(() =>
      Promise.resolve(
        server.logs.some((l) =>
          l.msg === "shutting down: finishing in-flight requests"
        ),
      )
    );
    server.child.kill("SIGINT");
    assert.equal(await exitWithin(server, 30_000, "second signal"), 1);
    // It exited while the work was still running: the client got no answer.
    assert.equal(await stuck, "no answer");
    const second = server.logs.find((l) =>
      l.msg === "second signal: exiting without waiting"
    );
    assert.equal(second?.signal, "SIGINT", JSON.stringify(server.logs));
    assert.ok(!server.logs.some((l) => l.msg === "stopped"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a shutdown held past the grace period by work that ignores it exits 1 (the exit watchdog)", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-main-" });
  try {
    // The plugin ignores the cancel, so the drain cannot end for a minute;
    // the watchdog (shortened from 10 s) ends the process first.
    const { server, post } = await serverWith(
      dir,
      stubbornPlugin(60_000),
      ["--shutdown-grace-ms", "200"],
      { LUMEN_EXIT_WATCHDOG_MS: "500" },
    );
    const stuck = post().then((r) => r.body?.cancel(), () => {});
    await waitFor(async () =>
      await metric(server.base, "lumen_queue_running") === 1
    );
    server.child.kill("SIGTERM");
    assert.equal(await exitWithin(server, 30_000, "watchdog"), 1);
    await stuck;
    const messages = server.logs.map((l) => l.msg);
    const started = messages.indexOf(
      "shutting down: finishing in-flight requests",
    );
    const watchdog = messages.indexOf("shutdown took too long: exiting");
    assert.ok(started >= 0 && watchdog > started, JSON.stringify(messages));
    assert.ok(!messages.includes("stopped"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
