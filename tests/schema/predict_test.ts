import assert from "node:assert/strict";
import {
  chelseaBase64,
  fixtureFile,
  graphqlRequest,
  send,
  sharedApp,
  uploadRequest,
  withServer,
} from "./_helpers.ts";

const PREDICT = `query Predict($b: String!) {
  predict(image: { base64: $b }, top: 3) { classIndex label probability }
}`;

const PREDICT_UPLOAD = `query Predict($file: File!) {
  predict(image: { file: $file }) { label probability }
}`;

interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

Deno.test("predict by base64, in-process: chelsea is an Egyptian cat", async () => {
  const app = await sharedApp();
  const body = await send(
    app.fetch,
    graphqlRequest(PREDICT, { b: await chelseaBase64() }),
  );
  assert.equal(body.errors, undefined);
  const predictions = body.data!.predict as Prediction[];
  assert.equal(predictions.length, 3);
  assert.equal(predictions[0].label, "Egyptian_cat");
  assert.equal(predictions[0].classIndex, 285);
  assert.ok(predictions[0].probability > 0.5);
  assert.ok(predictions[0].probability >= predictions[1].probability);
});

Deno.test("predict by multipart upload, over HTTP", async () => {
  const app = await sharedApp();
  const file = await fixtureFile("chelsea.png");
  await withServer(app, async (base) => {
    const body = await send(
      fetch,
      uploadRequest(PREDICT_UPLOAD, "file", file, { base }),
    );
    assert.equal(body.errors, undefined);
    const predictions = body.data!.predict as Prediction[];
    assert.equal(predictions.length, 5);
    assert.equal(predictions[0].label, "Egyptian_cat");
  });
});
