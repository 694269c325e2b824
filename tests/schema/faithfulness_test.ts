/**
 * `Explanation.details` and the opt-in `Explanation.faithfulness`, on the
 * tiny network.
 */
import assert from "node:assert/strict";
import { graphqlRequest, queueOf, send } from "./_helpers.ts";
import { integratedGradientsExplainer } from "../../explainers/integrated_gradients.ts";
import { tinyApp, tinyPng } from "./_tiny_app.ts";
import type { FaithfulnessResult } from "../../schema/explanation.ts";

type Faithfulness = FaithfulnessResult;

const FAITHFULNESS_FIELDS =
  "deletionAuc insertionAuc keepTopDrop keepTopProbability deletion insertion baseline steps";

Deno.test("details: integratedgradients reports its completeness error, gradcam nothing", async () => {
  const { app } = await tinyApp([integratedGradientsExplainer()]);
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String!) {
        ig: explain(image: { base64: $b }, method: "integratedgradients",
          options: { integratedgradients: { steps: 8 } }) {
          details { name value }
        }
        gradcam: explain(image: { base64: $b }) { details { name value } }
      }`,
      { b: await tinyPng(1) },
    ),
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const details =
    (body.data!.ig as { details: { name: string; value: number }[] })
      .details;
  const completeness = details.find((d) => d.name === "completenessError");
  assert.ok(completeness, JSON.stringify(details));
  assert.ok(
    Number.isFinite(completeness.value) && completeness.value >= 0,
    `${completeness.value}`,
  );
  assert.deepEqual(body.data!.gradcam, { details: [] });
});

Deno.test("faithfulness: scores in [0, 1], curves of steps + 1 points, one more model job, run only when selected", async () => {
  const { app, runtime } = await tinyApp();
  const b = await tinyPng(2);
  const query = (selection: string) =>
    graphqlRequest(
      `query($b: String!) {
        explain(image: { base64: $b }, layer: "b_out") { probability ${selection} }
      }`,
      { b },
    );

  let items = runtime.counters.batchItems;
  let jobs = queueOf(app).started;
  const plain = await send(app.fetch, query(""));
  assert.equal(plain.errors, undefined);
  assert.equal(runtime.counters.batchItems, items, "no extra pass unselected");
  assert.equal(queueOf(app).started, jobs + 1);

  items = runtime.counters.batchItems;
  jobs = queueOf(app).started;
  const body = await send(
    app.fetch,
    query(`faithfulness(steps: 10) { ${FAITHFULNESS_FIELDS} }`),
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const ran = runtime.counters.batchItems - items;
  assert.ok(ran > 0 && ran <= 2 * 10 + 1, `${ran} images scored`);
  assert.equal(queueOf(app).started, jobs + 2, "explain + faithfulness");
  const explain = body.data!.explain as {
    probability: number;
    faithfulness: Faithfulness;
  };
  const f = explain.faithfulness;
  assert.equal(f.baseline, "blur");
  assert.equal(f.steps, 10);
  assert.equal(f.deletion.length, 11);
  assert.equal(f.insertion.length, 11);
  for (
    const v of [
      f.deletionAuc,
      f.insertionAuc,
      f.keepTopDrop,
      f.keepTopProbability,
      ...f.deletion,
      ...f.insertion,
    ]
  ) {
    assert.ok(v >= 0 && v <= 1, `${v} out of [0, 1]`);
  }
  // Both curves run between p(x) and p(baseline).
  assert.ok(Math.abs(f.deletion[0] - explain.probability) < 1e-4);
  assert.ok(Math.abs(f.insertion[10] - explain.probability) < 1e-4);
  assert.equal(f.deletion[10], f.insertion[0]);
});

Deno.test("faithfulness: each alias is scored with its own options", async () => {
  const { app } = await tinyApp();
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String!) {
        explain(image: { base64: $b }) {
          blur: faithfulness(steps: 4) { baseline steps deletion }
          mean: faithfulness(baseline: "mean", steps: 2) { baseline steps deletion }
        }
      }`,
      { b: await tinyPng(3) },
    ),
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const e = body.data!.explain as Record<string, Faithfulness>;
  assert.equal(e.blur.baseline, "blur");
  assert.equal(e.blur.deletion.length, 5);
  assert.equal(e.mean.baseline, "mean");
  assert.equal(e.mean.deletion.length, 3);
  assert.notEqual(e.blur.deletion[4], e.mean.deletion[2]);
});

Deno.test("faithfulness: bad options are BAD_USER_INPUT on that field only, before any pass", async () => {
  const { app, runtime } = await tinyApp();
  const b = await tinyPng(4);
  for (
    const [args, message] of [
      [`baseline: "grey"`, /valid baselines are "blur", "mean"/],
      ["steps: 0", /steps must be an integer from 1 to 100, got 0/],
      ["steps: 101", /got 101/],
    ] as const
  ) {
    const items = runtime.counters.batchItems;
    const body = await send(
      app.fetch,
      graphqlRequest(
        `query($b: String!) {
          explain(image: { base64: $b }) { label faithfulness(${args}) { deletionAuc } }
        }`,
        { b },
      ),
    );
    assert.equal(body.errors?.length, 1, JSON.stringify(body));
    assert.equal(body.errors[0].extensions?.code, "BAD_USER_INPUT");
    assert.match(body.errors[0].message, message);
    assert.deepEqual(body.errors[0].path, ["explain", "faithfulness"]);
    const explain = body.data!.explain as Record<string, unknown>;
    assert.equal(explain.faithfulness, null);
    assert.equal(typeof explain.label, "string");
    assert.equal(runtime.counters.batchItems, items);
  }
});
