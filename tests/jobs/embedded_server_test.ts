/**
 * `main.ts` with no Redis (the default): jobs run in the server's process on
 * its own model workers; SIGTERM ends open job streams and exits 0.
 */
import assert from "node:assert/strict";
import { encodeBase64 } from "../../lib/base64.ts";
import { encodePng } from "../../lib/render.ts";
import {
  gql,
  metric,
  startApi,
  writeSleepyPlugin,
  writeTinyModel,
} from "./_fleet.ts";

const START = `mutation($b: String!, $options: JSON) {
  startExplanation(image: { base64: $b }, methods: ["gradcam", "sleepy"],
    layer: "b_out", options: $options) { id }
}`;
const UPDATES = `subscription($id: ID!) {
  jobUpdates(id: $id) { state progress errorCode results { method } }
}`;

Deno.test("main.ts embedded: a job runs on the server's model worker; SIGTERM ends its followers and exits 0", async () => {
  const dir = await Deno.makeTempDir({
    dir: "/tmp",
    prefix: "lumen-embedded-",
  });
  try {
    const { process, base } = await startApi("embedded", [
      "--backend",
      "wasm",
      "--model",
      await writeTinyModel(dir),
      "--preprocessing",
      "tf",
      "--plugin",
      await writeSleepyPlugin(dir),
      "--shutdown-grace-ms",
      "200",
    ]);
    await using _server = process;
    assert.ok(
      process.logs.some((l) => l.msg === "listening" && l.jobs === "embedded"),
    );
    const b = encodeBase64(
      await encodePng({
        width: 32,
        height: 32,
        data: new Uint8Array(32 * 32 * 3),
      }),
    );
    const start = async (batches: number) => {
      const { body } = await gql(base, START, {
        b,
        options: { sleepy: { batches, ms: 50, tag: "e" } },
      });
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return (body.data!.startExplanation as { id: string }).id;
    };
    const follow = (id: string) =>
      fetch(`${base}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
        },
        body: JSON.stringify({ query: UPDATES, variables: { id } }),
      }).then((r) => r.text());

    const done = await follow(await start(4));
    assert.match(done, /"state":"succeeded","progress":1/);
    assert.match(
      done,
      /"results":\[\{"method":"gradcam"\},\{"method":"sleepy"\}\]/,
    );
    assert.equal(await metric(base, "lumen_job_workers"), 1);
    assert.ok(
      process.logs.some((l) =>
        l.msg === "job ended" && l.outcome === "succeeded"
      ),
    );

    // A long job, followed, when the server is told to stop.
    const id = await start(5_000);
    const stream = follow(id);
    await process.waitFor(
      (l) => l.msg === "sleepy batch",
      "the long job running",
    );
    process.kill("SIGTERM");
    const text = await stream;
    assert.match(text, /SHUTTING_DOWN/);
    assert.equal(await process.status, 0);
    assert.ok(
      process.logs.some((l) => l.msg === "sleepy stopped"),
      "the job's model work stopped",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
