/**
 * The page's request plan with its real API and slow runner against the
 * tiny network over HTTP: fast methods together first, slow ones after,
 * one at a time; a failing slow method fails only itself.
 */
import assert from "node:assert/strict";
import { createApi } from "../../web/client/api.ts";
import { createRuns, type Phase } from "../../web/client/runs.ts";
import { sseSlowRunner } from "../../web/client/slow_runner.ts";
import { fixtureFile, withServer } from "../schema/_helpers.ts";
import { tinyApp, until } from "../schema/_tiny_app.ts";
import { failingSlowExplainer, heldExplainer } from "./_slow.ts";

Deno.test("runs: fast methods first in one request, then slow ones one at a time", async () => {
  const held = heldExplainer();
  const { app } = await tinyApp([held.explainer, failingSlowExplainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(app, async (base) => {
    const log: string[] = [];
    const phases = new Map<string, Phase | null>();
    let requests = 0;
    const counted: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const api = createApi(`${base}/graphql`);
    const runs = createRuns({
      explainFast: api.explain,
      runSlow: sseSlowRunner({ uri: `${base}/graphql`, fetch: counted }),
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
    runs.start(file, { layer: null, classIndex: null, predictions: true });
    runs.want(["held", "gradcam", "failslow", "activation"]);
    await held.halfway;
    await until(() => {
      const phase = phases.get("held");
      return phase?.kind === "running" && phase.progress?.fraction === 0.5;
    }, "held at half-way");
    const waiting = phases.get("failslow");
    assert.equal(waiting?.kind, "waiting");
    held.release();
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
    assert.match(
      failed?.kind === "failed" ? failed.text : "",
      /INTERNAL_SERVER_ERROR/,
    );
    assert.equal(requests, 2, "one request per slow method");
  });
});

Deno.test("runs: unwanted slow methods are dropped, an invalid image fails all", async () => {
  const held = heldExplainer();
  const { app } = await tinyApp([held.explainer, failingSlowExplainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(app, async (base) => {
    const phases = new Map<string, Phase | null>();
    const explained: string[] = [];
    const api = createApi(`${base}/graphql`);
    const runs = createRuns({
      explainFast: api.explain,
      runSlow: sseSlowRunner({ uri: `${base}/graphql` }),
      isSlow: (m) => m === "held" || m === "failslow",
      events: {
        predictions() {},
        explanation: (e) => explained.push(e.method),
        phase: (method, phase) => phases.set(method, phase),
        problems() {},
      },
    });
    runs.start(file, { layer: null, classIndex: null, predictions: true });
    runs.want(["held", "failslow"]);
    await held.halfway;
    runs.want(["gradcam"]);
    assert.equal(phases.get("held"), null);
    assert.equal(phases.get("failslow"), null);
    await until(() => explained.includes("gradcam"), "gradcam", 10_000);
    assert.deepEqual(explained, ["gradcam"]);

    runs.start(new Blob(["not pixels"]), {
      layer: null,
      classIndex: null,
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
