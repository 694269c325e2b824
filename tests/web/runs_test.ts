/**
 * The page's request plan with its real API and job runner against the
 * tiny network over HTTP (jobs embedded): fast methods together first,
 * slow ones after, one job at a time; a failing slow method fails only
 * itself; dropping a slow method or starting over cancels its job.
 */
import assert from "node:assert/strict";
import { createApi } from "../../web/client/api.ts";
import { jobSlowRunner } from "../../web/client/job_runner.ts";
import { createRuns, type Phase } from "../../web/client/runs.ts";
import { fixtureFile, withServer } from "../schema/_helpers.ts";
import { until } from "../schema/_tiny_app.ts";
import { jobFetch, jobState, tinyJobApp, untilCancelled } from "./_jobs.ts";
import { failingSlowExplainer, heldExplainer } from "./_slow.ts";

const SETTINGS = { model: null, layer: null, classIndex: null };

Deno.test("runs: fast methods first in one request, then slow ones one at a time", async () => {
  const held = heldExplainer();
  await using jobs = await tinyJobApp([held.explainer, failingSlowExplainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(jobs.app, async (base) => {
    const log: string[] = [];
    const phases = new Map<string, Phase | null>();
    const recorded = jobFetch();
    const api = createApi(`${base}/graphql`);
    const runs = createRuns({
      explainFast: api.explain,
      runSlow: jobSlowRunner({ uri: `${base}/graphql`, fetch: recorded.fetch }),
      isSlow: (m) => m === "held" || m === "failslow",
      events: {
        predictions: () => log.push("predictions"),
        explanation: (e) => log.push(e.method),
        phase(method, phase) {
          phases.set(method, phase);
          const last = log.findLast((l) => l.startsWith(`${method}:`));
          const now = `${method}:${phase?.kind ?? "none"}`;
          if (last !== now) log.push(now);
        },
        problems: (p) => log.push(`problems:${p.map((x) => x.code)}`),
      },
    });
    runs.start(file, { ...SETTINGS, predictions: true });
    runs.want(["held", "gradcam", "failslow", "activation"]);
    try {
      await held.halfway;
      await until(() => {
        const phase = phases.get("held");
        return phase?.kind === "running" && (phase.progress?.fraction ?? 0) > 0;
      }, "held at half-way");
      const waiting = phases.get("failslow");
      assert.equal(waiting?.kind, "waiting");
    } finally {
      held.release();
    }
    await until(
      () => phases.get("failslow")?.kind === "failed",
      "failslow failed",
      10_000,
    );
    const order = log.filter((l) =>
      !l.endsWith(":waiting") && !l.endsWith(":fast")
    );
    assert.deepEqual(order, [
      "predictions",
      "gradcam",
      "gradcam:none",
      "activation",
      "activation:none",
      "held:running",
      "held",
      "held:none",
      "failslow:running",
      "failslow:failed",
    ]);
    const failed = phases.get("failslow");
    assert.match(failed?.kind === "failed" ? failed.text : "", /INTERNAL/);
    assert.equal(recorded.sent.get("StartExplanation"), 2, "a job each");
    assert.deepEqual(
      await Promise.all(recorded.ids.map((id) => jobState(jobs.app, id))),
      [
        { state: "succeeded", errorCode: null },
        { state: "failed", errorCode: "INTERNAL" },
      ],
    );
  });
});

Deno.test("runs: unwanted slow methods are dropped, an invalid image fails all", async () => {
  const held = heldExplainer();
  await using jobs = await tinyJobApp([held.explainer, failingSlowExplainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(jobs.app, async (base) => {
    const phases = new Map<string, Phase | null>();
    const explained: string[] = [];
    const recorded = jobFetch();
    const api = createApi(`${base}/graphql`);
    const runs = createRuns({
      explainFast: api.explain,
      runSlow: jobSlowRunner({ uri: `${base}/graphql`, fetch: recorded.fetch }),
      isSlow: (m) => m === "held" || m === "failslow",
      events: {
        predictions() {},
        explanation: (e) => explained.push(e.method),
        phase: (method, phase) => phases.set(method, phase),
        problems() {},
      },
    });
    runs.start(file, { ...SETTINGS, predictions: true });
    runs.want(["held", "failslow"]);
    await held.halfway;
    runs.want(["gradcam"]);
    assert.equal(phases.get("held"), null);
    assert.equal(phases.get("failslow"), null);
    await until(() => explained.includes("gradcam"), "gradcam", 10_000);
    assert.deepEqual(explained, ["gradcam"]);
    // The dropped method's job was cancelled; the waiting one never started.
    await until(() => recorded.ids.length === 1, "the job's id");
    await untilCancelled(jobs.app, recorded.ids[0]);
    assert.equal(recorded.sent.get("StartExplanation"), 1);

    // Starting over (another class) cancels the running job too.
    runs.start(file, { ...SETTINGS, classIndex: 2, predictions: false });
    runs.want(["held"]);
    await until(() => recorded.ids.length === 2, "the second job's id");
    runs.start(file, { ...SETTINGS, classIndex: 3, predictions: false });
    await untilCancelled(jobs.app, recorded.ids[1]);

    runs.start(new Blob(["not pixels"]), {
      ...SETTINGS,
      predictions: true,
    });
    runs.want(["gradcam", "held"]);
    await until(
      () =>
        phases.get("gradcam")?.kind === "failed" &&
        phases.get("held")?.kind === "failed",
      "both failed",
      10_000,
    );
    runs.cancel();
  });
});
