/**
 * The page's slow-method runner (`explainProgress` over server-sent events,
 * the image uploaded) against the tiny network over HTTP: progress in
 * order, then the explanation; failures in the page's words; cancelling
 * stops the server's work.
 */
import assert from "node:assert/strict";
import type { Explanation } from "../../web/client/api.ts";
import type { Problem } from "../../web/client/messages.ts";
import type { ProgressState } from "../../web/client/progress.ts";
import {
  type SlowEvents,
  sseSlowRunner,
} from "../../web/client/slow_runner.ts";
import { fixtureFile, withServer } from "../schema/_helpers.ts";
import { tinyApp, until } from "../schema/_tiny_app.ts";
import { failingSlowExplainer, heldExplainer } from "./_slow.ts";

interface Seen {
  progress: ProgressState[];
  explanations: Explanation[];
  problems: Problem[][];
  done: number;
}

function recorder(): { seen: Seen; events: SlowEvents } {
  const seen: Seen = { progress: [], explanations: [], problems: [], done: 0 };
  return {
    seen,
    events: {
      onProgress: (p) => seen.progress.push(p),
      onExplanation: (e) => seen.explanations.push(e),
      onProblems: (p) => seen.problems.push(p),
      onDone: () => seen.done++,
    },
  };
}

Deno.test("sseSlowRunner: progress with an estimate, then the explanation", async () => {
  const held = heldExplainer();
  const { app } = await tinyApp([held.explainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(app, async (base) => {
    let clock = 0;
    const run = sseSlowRunner({ uri: `${base}/graphql`, now: () => clock++ });
    const { seen, events } = recorder();
    run(file, "held", { layer: null, classIndex: 3, events });
    await held.halfway;
    await until(() => seen.progress.some((p) => p.fraction === 0.5), "0.5");
    held.release();
    await until(() => seen.done === 1, "done", 10_000);
    const fractions = seen.progress.map((p) => p.fraction);
    assert.equal(fractions[0], 0);
    assert.ok(fractions.includes(0.5));
    assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b));
    assert.equal(seen.progress[0].secondsLeft, null);
    assert.ok(seen.progress.at(-1)!.secondsLeft! > 0);
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
  });
});

Deno.test("sseSlowRunner: failures are problems, and done still comes", async () => {
  const { app } = await tinyApp([failingSlowExplainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(app, async (base) => {
    const run = sseSlowRunner({ uri: `${base}/graphql` });
    const cases: [string, Blob, string][] = [
      ["failslow", file, "INTERNAL_SERVER_ERROR"],
      ["nope", file, "UNKNOWN_METHOD"],
      ["gradcam", new Blob(["not pixels"]), "INVALID_IMAGE"],
    ];
    for (const [method, image, code] of cases) {
      const { seen, events } = recorder();
      run(image, method, { layer: null, classIndex: null, events });
      await until(() => seen.done === 1, `${method} done`, 10_000);
      assert.deepEqual(seen.explanations, []);
      assert.deepEqual(seen.problems.flat().map((p) => p.code), [code]);
    }
    const { seen, events } = recorder();
    sseSlowRunner({ uri: "http://127.0.0.1:9/graphql" })(file, "gradcam", {
      layer: null,
      classIndex: null,
      events,
    });
    await until(() => seen.done === 1, "unreachable done", 10_000);
    assert.equal(seen.problems[0][0].code, "NETWORK_ERROR");
  });
});

Deno.test("sseSlowRunner: cancelling stops the work and the events", async () => {
  const held = heldExplainer();
  const { app } = await tinyApp([held.explainer]);
  const file = await fixtureFile("chelsea.png");
  await withServer(app, async (base) => {
    const { seen, events } = recorder();
    const cancel = sseSlowRunner({ uri: `${base}/graphql` })(file, "held", {
      layer: null,
      classIndex: null,
      events,
    });
    await held.halfway;
    cancel();
    const counted = seen.progress.length;
    // The server aborts the job: the next request gets the worker at once.
    const next = recorder();
    sseSlowRunner({ uri: `${base}/graphql` })(file, "gradcam", {
      layer: null,
      classIndex: null,
      events: next.events,
    });
    await until(() => next.seen.done === 1, "the next run", 10_000);
    assert.equal(next.seen.explanations.length, 1);
    assert.equal(seen.progress.length, counted);
    assert.equal(seen.done, 0);
    assert.deepEqual(seen.explanations, []);
  });
});
