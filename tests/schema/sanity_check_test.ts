/**
 * `Query.sanityCheck`: on the tiny network (its block and classifier
 * randomized), and once on ResNet-50 and chelsea.png.
 */
import assert from "node:assert/strict";
import {
  chelseaBase64,
  graphqlRequest,
  queueOf,
  send,
  sharedApp,
} from "./_helpers.ts";
import { inMemoryHandler, tinyResNet } from "../_shared.ts";
import { sharedTiny, tinyApp, tinyPng } from "./_tiny_app.ts";

interface Heatmap {
  width: number;
  height: number;
  values: number[];
}

interface SanityCheck {
  method: string;
  layer: string;
  classIndex: number;
  label: string;
  spearman: number;
  trainedMap: Heatmap;
  randomizedMap: Heatmap;
}

const SANITY_QUERY = (args: string) =>
  `query($b: String!) {
    sanityCheck(image: { base64: $b }${args}) {
      method layer classIndex label spearman
      trainedMap { width height values }
      randomizedMap { width height values }
    }
  }`;

Deno.test("sanityCheck on the tiny network: two maps of the layer, their Spearman ρ, one model job", async () => {
  const { app } = await tinyApp();
  const b = await tinyPng(5);
  const jobs = queueOf(app).started;
  const body = await send(
    app.fetch,
    graphqlRequest(SANITY_QUERY(`, layer: "b_out", classIndex: 3`), { b }),
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.equal(queueOf(app).started, jobs + 1);
  const check = body.data!.sanityCheck as SanityCheck;
  assert.equal(check.method, "gradcam");
  assert.equal(check.layer, "b_out");
  assert.equal(check.classIndex, 3);
  assert.equal(check.label, "class_3");
  assert.ok(check.spearman >= -1 && check.spearman <= 1, `${check.spearman}`);
  for (const map of [check.trainedMap, check.randomizedMap]) {
    assert.equal(map.width, 16);
    assert.equal(map.height, 16);
    assert.equal(map.values.length, 256);
    for (const v of map.values) assert.ok(v >= 0 && v <= 1, `${v}`);
  }
  assert.notDeepEqual(check.trainedMap.values, check.randomizedMap.values);

  // The class defaults to the trained model's top-1; options reach the method.
  const top = await send(
    app.fetch,
    graphqlRequest(
      SANITY_QUERY(`, method: "activation", options: { activation: {} }`),
      { b },
    ),
  );
  assert.equal(top.errors, undefined, JSON.stringify(top.errors));
  const predicted = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String!) { predict(image: { base64: $b }, top: 1) { classIndex } }`,
      { b },
    ),
  );
  assert.equal(
    (top.data!.sanityCheck as SanityCheck).classIndex,
    (predicted.data!.predict as { classIndex: number }[])[0].classIndex,
  );
});

Deno.test("sanityCheck refusals: no weights to randomize, bad arguments; before any work", async () => {
  const b = await tinyPng(6);
  const { app: without } = await tinyApp([], { artifacts: null });
  const refused = await send(
    without.fetch,
    graphqlRequest(SANITY_QUERY(""), { b }),
  );
  assert.equal(refused.errors?.[0].extensions?.code, "UNSUPPORTED_MODEL");
  assert.match(
    refused.errors![0].message,
    /sanityCheck is not available for the model "tiny"/,
  );
  assert.equal(queueOf(without).started, 0);

  const { app } = await tinyApp();
  for (
    const [args, code] of [
      [`, method: "nope"`, "UNKNOWN_METHOD"],
      [`, layer: "nope"`, "UNKNOWN_LAYER"],
      [`, classIndex: 10`, "BAD_USER_INPUT"],
      [`, options: { scorecam: {} }`, "BAD_USER_INPUT"],
    ] as const
  ) {
    const body = await send(
      app.fetch,
      graphqlRequest(SANITY_QUERY(args), { b }),
    );
    assert.equal(body.errors?.[0].extensions?.code, code, args);
  }
  assert.equal(queueOf(app).started, 0);
});

Deno.test("sanityCheck: weights of another model are UNSUPPORTED_MODEL, in the job", async () => {
  await sharedTiny(); // builds the other weights on the same backend
  const other = tinyResNet({ size: 48 });
  const handler = await inMemoryHandler(other);
  other.dispose();
  const { app } = await tinyApp([], { artifacts: () => handler.load!() });
  const body = await send(
    app.fetch,
    graphqlRequest(SANITY_QUERY(""), { b: await tinyPng(7) }),
  );
  assert.equal(body.errors?.[0].extensions?.code, "UNSUPPORTED_MODEL");
  assert.match(
    body.errors![0].message,
    /its weights describe a 48×48 input, the model takes 32×32/,
  );
});

Deno.test("sanityCheck on ResNet-50: Grad-CAM of chelsea.png depends on the trained weights (ρ < 0.5)", async () => {
  const app = await sharedApp();
  const start = performance.now();
  const body = await send(
    app.fetch,
    graphqlRequest(SANITY_QUERY(`, method: "gradcam", layer: "layer4"`), {
      b: await chelseaBase64(),
    }),
  );
  const ms = performance.now() - start;
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const check = body.data!.sanityCheck as SanityCheck;
  assert.equal(check.label, "Egyptian_cat");
  assert.equal(check.trainedMap.width, 7);
  assert.ok(check.spearman < 0.5, `Spearman ρ = ${check.spearman}`);
  console.log(`sanityCheck on ResNet-50: ${Math.round(ms)} ms`);
});
