/**
 * A client that leaves is not a server error: main.ts as a process (the
 * tiny network, a plugin that runs until its signal aborts), a client that
 * disconnects mid-request. Its work stops in the model worker, and the
 * metrics count a disconnect (REQUEST_ABORTED), not INTERNAL_SERVER_ERROR,
 * and the log says so at level info, with no stack.
 */
import assert from "node:assert/strict";
import { encodeBase64 } from "../../lib/base64.ts";
import { encodePng } from "../../lib/render.ts";
import { metric, startServer, waitFor } from "../_server.ts";

/** Runs until its signal aborts (at most a minute). */
const PATIENT = `export default {
  name: "patient",
  description: "Waits for its signal",
  needsGradients: false,
  parseParams: () => ({}),
  explain: ({ signal }) => new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => resolve({ width: 1, height: 1, values: new Float32Array([1]) }),
      60_000,
    );
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  }),
};`;

Deno.test("a client that disconnects mid-request: its work stops; counted as REQUEST_ABORTED, never INTERNAL_SERVER_ERROR, logged at info without a stack", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-gone-" });
  try {
    await Deno.writeTextFile(`${dir}/patient.js`, PATIENT);
    const server = await startServer({ dir, tiny: true }, [
      "--plugin",
      `${dir}/patient.js`,
    ]);
    try {
      const b = encodeBase64(
        await encodePng({
          width: 8,
          height: 8,
          data: new Uint8Array(8 * 8 * 3),
        }),
      );
      const client = new AbortController();
      const gone = fetch(`${server.base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: `query($b: String!) {
            explain(image: { base64: $b }, method: "patient") { map { width } }
          }`,
          variables: { b },
        }),
        signal: client.signal,
      }).catch((error: Error) => error);
      await waitFor(async () =>
        await metric(server.base, "lumen_queue_running") === 1
      );
      client.abort();
      assert.equal(((await gone) as Error).name, "AbortError");
      // The work stopped at once (the plugin would run for a minute).
      await waitFor(async () =>
        await metric(server.base, "lumen_queue_running") === 0
      );
      const metrics = await (await fetch(`${server.base}/metrics`)).text();
      // Stopped through its signal: the worker was not killed for ignoring
      // the cancel (that takes 5 s and counts a restart).
      assert.doesNotMatch(metrics, /^lumen_worker_restarts_total\{/m);
      assert.doesNotMatch(metrics, /code="INTERNAL_SERVER_ERROR"/);
      assert.match(metrics, /lumen_jobs_total\{[^}]*outcome="disconnected"/);
      assert.match(
        metrics,
        /^lumen_graphql_errors_total\{code="REQUEST_ABORTED"\} 1$/m,
      );
      await waitFor(() =>
        Promise.resolve(
          server.logs.some((l) => l.msg === "client left before the answer"),
        )
      );
      const errors = server.logs.filter((l) => l.level === "error");
      assert.deepEqual(errors, [], "a disconnect is not a server error");
      assert.ok(
        !JSON.stringify(server.logs).includes("    at "),
        "no stack in the log",
      );
    } finally {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
