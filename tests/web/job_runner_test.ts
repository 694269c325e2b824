/**
 * The page's slow-method runner on explanation jobs (`startExplanation`
 * with the image uploaded, `jobUpdates` over server-sent events,
 * `cancelJob`) against the tiny network over HTTP, jobs embedded: progress
 * in order with an estimate, then the explanation; failures in the page's
 * words, a failed job only its own; cancelling cancels the job on the
 * server, even before its id is known; a stream that ends early is
 * followed again.
 */
import assert from "node:assert/strict";
import type { Explanation } from "../../web/client/api.ts";
import { jobSlowRunner } from "../../web/client/job_runner.ts";
import type { Problem } from "../../web/client/messages.ts";
import type { ProgressState } from "../../web/client/progress.ts";
import type { SlowEvents } from "../../web/client/slow_runner.ts";
import { fixtureFile, withServer } from "../schema/_helpers.ts";
import { until } from "../schema/_tiny_app.ts";
import { jobFetch, jobState, tinyJobApp, untilCancelled } from "./_jobs.ts";
import { failingSlowExplainer, heldExplainer } from "./_slow.ts";

interface Seen {
  queued: number;
  progress: ProgressState[];
  explanations: Explanation[];
  problems: Problem[][];
  done: number;
}

function recorder(): { seen: Seen; events: SlowEvents } {
  const seen: Seen = {
    queued: 0,
    progress: [],
    explanations: [],
    problems: [],
    done: 0,
  };
  return {
    seen,
    events: {
      onQueued: () => seen.queued++,
      onProgress: (p) => seen.progress.push(p),
      onExplanation: (e) => seen.explanations.push(e),
      onProblems: (p) => seen.problems.push(p),
      onDone: () => seen.done++,
    },
  };
}

const DEFAULTS = { model: null, layer: null, classIndex: null };

Deno.test("jobSlowRunner: a job's progress with an estimate, then its explanation", async () => {
  const held = heldExplainer();
  await using jobs = await tinyJobApp([held.explainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(jobs.app, async (base) => {
    let clock = 0;
    const recorded = jobFetch();
    const run = jobSlowRunner({
      uri: `${base}/graphql`,
      fetch: recorded.fetch,
      now: () => clock += 100,
    });
    const { seen, events } = recorder();
    run(file, "held", { ...DEFAULTS, model: "tiny", classIndex: 3, events });
    try {
      await held.halfway;
      await until(() => seen.progress.length > 0, "a progress report");
      const [halfway] = seen.progress;
      assert.ok(halfway.fraction > 0 && halfway.fraction < 1);
      // The clock starts at the first report: no estimate yet.
      assert.equal(halfway.secondsLeft, null);
      assert.equal(
        (await jobState(jobs.app, recorded.ids[0])).state,
        "running",
      );
    } finally {
      held.release();
    }
    await until(() => seen.done === 1, "done", 10_000);
    const fractions = seen.progress.map((p) => p.fraction);
    assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b));
    assert.ok(fractions.every((f) => f > 0 && f <= 1));
    assert.ok(seen.progress.slice(1).every((p) => p.secondsLeft !== null));
    assert.deepEqual(seen.problems, []);
    const [explanation] = seen.explanations;
    assert.equal(explanation.method, "held");
    assert.equal(explanation.classIndex, 3);
    assert.deepEqual(explanation.map, {
      width: 2,
      height: 2,
      values: [0, 1 / 3, 2 / 3, 1].map(Math.fround),
      rawMin: 0,
      rawMax: 3,
    });
    assert.equal(recorded.ids.length, 1, "one job");
    assert.deepEqual(await jobState(jobs.app, recorded.ids[0]), {
      state: "succeeded",
      errorCode: null,
    });
    assert.equal(recorded.sent.get("CancelJob"), undefined);
  });
});

Deno.test("jobSlowRunner: refused starts and failed jobs are problems, and done still comes", async () => {
  await using jobs = await tinyJobApp([failingSlowExplainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(jobs.app, async (base) => {
    const recorded = jobFetch();
    const run = jobSlowRunner({
      uri: `${base}/graphql`,
      fetch: recorded.fetch,
    });
    const cases: [string, Blob, string | null, string][] = [
      ["failslow", file, null, "INTERNAL"],
      ["nope", file, null, "UNKNOWN_METHOD"],
      ["gradcam", new Blob(["not pixels"]), null, "INVALID_IMAGE"],
      ["gradcam", file, "nope", "UNKNOWN_MODEL"],
    ];
    for (const [method, image, model, code] of cases) {
      const { seen, events } = recorder();
      run(image, method, { ...DEFAULTS, model, events });
      await until(() => seen.done === 1, `${method} done`, 10_000);
      assert.deepEqual(seen.explanations, []);
      assert.deepEqual(seen.problems.flat().map((p) => p.code), [code]);
    }
    // Only the method that failed while running became a job.
    assert.equal(recorded.ids.length, 1);
    assert.deepEqual(await jobState(jobs.app, recorded.ids[0]), {
      state: "failed",
      errorCode: "INTERNAL",
    });
    const { seen, events } = recorder();
    jobSlowRunner({ uri: "http://127.0.0.1:9/graphql" })(file, "gradcam", {
      ...DEFAULTS,
      events,
    });
    await until(() => seen.done === 1, "unreachable done", 10_000);
    assert.equal(seen.problems[0][0].code, "NETWORK_ERROR");
  });
});

Deno.test("jobSlowRunner: cancelling cancels the job, also before its id arrives", async () => {
  const held = heldExplainer();
  await using jobs = await tinyJobApp([held.explainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(jobs.app, async (base) => {
    const recorded = jobFetch();
    const run = jobSlowRunner({
      uri: `${base}/graphql`,
      fetch: recorded.fetch,
    });
    const first = recorder();
    const cancel = run(file, "held", { ...DEFAULTS, events: first.events });
    await held.halfway;
    cancel();
    const counted = first.seen.progress.length;
    await until(() => recorded.ids.length === 1, "the first job's id");
    await untilCancelled(jobs.app, recorded.ids[0]);

    // Cancelled while its start is still on the way: the job it becomes
    // is cancelled as soon as its id is known.
    const second = recorder();
    run(file, "held", { ...DEFAULTS, events: second.events })();
    await until(() => recorded.ids.length === 2, "the second job's id");
    await untilCancelled(jobs.app, recorded.ids[1]);
    assert.equal(recorded.sent.get("CancelJob"), 2);

    // The work stopped: the next job gets the runner at once.
    const next = recorder();
    run(file, "gradcam", { ...DEFAULTS, events: next.events });
    await until(() => next.seen.done === 1, "the next run", 10_000);
    assert.equal(next.seen.explanations.length, 1);
    for (const { seen } of [first, second]) {
      assert.equal(seen.done, 0);
      assert.deepEqual(seen.explanations, []);
      assert.deepEqual(seen.problems, []);
    }
    assert.equal(first.seen.progress.length, counted);
    assert.equal(second.seen.progress.length, 0);
  });
});

Deno.test("jobSlowRunner: a stream that ends before the job is followed again", async () => {
  const held = heldExplainer();
  await using jobs = await tinyJobApp([held.explainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(jobs.app, async (base) => {
    const recorded = jobFetch();
    recorded.cutStreams(2);
    const { seen, events } = recorder();
    jobSlowRunner({
      uri: `${base}/graphql`,
      fetch: recorded.fetch,
      refollowDelayMs: 10,
    })(file, "held", { ...DEFAULTS, events });
    try {
      await held.halfway;
      await until(() => recorded.sent.get("JobUpdates") === 3, "third stream");
    } finally {
      held.release();
    }
    await until(() => seen.done === 1, "done", 10_000);
    assert.deepEqual(seen.problems, []);
    assert.equal(seen.explanations[0]?.method, "held");
    assert.equal(recorded.ids.length, 1, "still one job");
  });
});
