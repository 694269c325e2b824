/**
 * The job examples of README.md ("Jobs and scaling out", blocks marked
 * `graphql job-example`) run here in order, on chelsea.png and the shipped
 * ResNet-50, against an app running jobs embedded: the README cannot drift
 * from the API.
 */
import assert from "node:assert/strict";
import { createRegistry } from "../../explainers/registry.ts";
import {
  DEFAULT_JOB_SETTINGS,
  openExplanationJobs,
} from "../../jobs/explanation/mod.ts";
import { createApp } from "../../server/mod.ts";
import { sharedResNet50 } from "../_shared.ts";
import { serviceOver } from "../_service.ts";
import {
  chelseaBase64,
  type GraphQLBody,
  graphqlRequest,
  parseSse,
} from "./_helpers.ts";

const readme = await Deno.readTextFile(
  new URL("../../README.md", import.meta.url),
);
const examples = [
  ...readme.matchAll(/```graphql job-example\n([\s\S]*?)```/g),
].map((m) => m[1]);
const named = (name: string) => {
  const found = examples.find((e) => new RegExp(`\\b${name}\\(`).test(e));
  assert.ok(found, `README has no ${name} example`);
  return found;
};

Deno.test("README job examples: start, follow over SSE, poll, cancel", async () => {
  assert.equal(examples.length, 4);
  const registry = createRegistry();
  const service = await serviceOver(sharedResNet50(), registry);
  const jobs = openExplanationJobs(DEFAULT_JOB_SETTINGS, {
    runHere: { service, registry },
  });
  try {
    const app = createApp({ service, registry, jobs });
    const run = async (query: string, variables: Record<string, unknown>) => {
      const response = await app.fetch(graphqlRequest(query, variables));
      const body = await response.json() as GraphQLBody;
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return body.data!;
    };
    const started = await run(named("StartJob"), { b: await chelseaBase64() });
    const { id } = started.startExplanation as { id: string };

    const stream = await app.fetch(
      graphqlRequest(named("FollowJob"), { id }, {
        accept: "text/event-stream",
      }),
    );
    const updates = parseSse(await stream.text())
      .filter((e) => e.event === "next")
      .map((e) => JSON.parse(e.data) as GraphQLBody);
    for (const update of updates) {
      assert.equal(update.errors, undefined, JSON.stringify(update.errors));
    }
    const last = updates.at(-1)!.data!.jobUpdates as {
      state: string;
      progress: number;
      results: { method: string; label: string }[];
    };
    assert.equal(last.state, "succeeded");
    assert.equal(last.progress, 1);
    assert.deepEqual(last.results.map((r) => r.method), [
      "gradcam",
      "scorecam",
    ]);
    // The top-1 class, as predict says.
    const top = await run(
      `query($b: String!) { predict(image: { base64: $b }, top: 1) { label } }`,
      { b: await chelseaBase64() },
    );
    assert.equal(
      last.results[0].label,
      (top.predict as { label: string }[])[0].label,
    );

    const polled = await run(named("PollJob"), { id });
    assert.equal((polled.job as { state: string }).state, "succeeded");
    // A finished job comes back unchanged.
    const cancelled = await run(named("CancelJob"), { id });
    assert.deepEqual(cancelled.cancelJob, {
      state: "succeeded",
      errorCode: null,
    });
  } finally {
    await jobs.close({ graceMs: 0 });
  }
});
