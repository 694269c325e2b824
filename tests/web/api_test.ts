/**
 * The page's API module (Apollo Client, the upload link) in Deno against
 * the real server over HTTP: the same code the browser runs, minus the DOM.
 */
import assert from "node:assert/strict";
import { loadingApp } from "../_service.ts";
import {
  createApi,
  CSRF_HEADERS,
  type Explanation,
  type Prediction,
  ProblemError,
} from "../../web/client/api.ts";
import type { Problem } from "../../web/client/messages.ts";
import { fixtureFile, sharedApp, withServer } from "../schema/_helpers.ts";

interface Seen {
  predictions: Prediction[][];
  explanations: Explanation[];
  problems: Problem[][];
  order: string[];
}

function explain(
  api: ReturnType<typeof createApi>,
  file: File,
  methods: string[],
  model: string | null = null,
): Promise<Seen> {
  const seen: Seen = {
    predictions: [],
    explanations: [],
    problems: [],
    order: [],
  };
  return new Promise((resolve) => {
    api.explain(file, {
      methods,
      model,
      layer: null,
      classIndex: null,
    }, {
      onPredictions(p) {
        seen.order.push("predictions");
        seen.predictions.push(p);
      },
      onExplanation(e) {
        seen.order.push(e.method);
        seen.explanations.push(e);
      },
      onProblems(p) {
        seen.order.push("problems");
        seen.problems.push(p);
      },
      onDone: () => resolve(seen),
    });
  });
}

Deno.test("web api: the page's CSRF headers get an upload through; without them it is refused (403)", async () => {
  const app = await sharedApp();
  const upload = async (headers: Record<string, string>) => {
    const form = new FormData();
    form.set(
      "operations",
      JSON.stringify({
        query:
          "query($f: File!) { predict(image: { file: $f }, top: 1) { label } }",
        variables: { f: null },
      }),
    );
    form.set("map", JSON.stringify({ 0: ["variables.f"] }));
    form.set("0", await fixtureFile("chelsea.png"));
    const response = await app.fetch(
      new Request("http://localhost/graphql", {
        method: "POST",
        headers,
        body: form,
      }),
    );
    return { status: response.status, body: await response.json() };
  };
  const accepted = await upload({ ...CSRF_HEADERS });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.equal(accepted.body.data.predict[0].label, "Egyptian_cat");
  const refused = await upload({});
  assert.equal(refused.status, 403);
  assert.equal(
    refused.body.errors[0].extensions.code,
    "CSRF_HEADER_REQUIRED",
  );
});

Deno.test("web api: upload, top-5 first, then each method as it is computed", async () => {
  const file = await fixtureFile("chelsea.png");
  await withServer(await sharedApp(), async (base) => {
    const api = createApi(`${base}/graphql`);
    const info = await api.serverInfo();
    assert.deepEqual(
      info.models.map(({ name, isDefault }) => ({ name, isDefault })),
      [{ name: "resnet50", isDefault: true }],
    );
    assert.deepEqual(await api.modelInfo("resnet50"), info.model);
    assert.equal(info.model.labels.length, 1000);
    assert.ok(info.explainers.some((e) => e.name === "gradcam"));
    assert.ok(
      info.model.layers.some((l) =>
        l.name === info.model.defaultLayer && l.explainable
      ),
    );
    const seen = await explain(
      api,
      file,
      ["gradcam", "activation"],
      "resnet50",
    );
    assert.deepEqual(seen.problems, []);
    assert.deepEqual(seen.order, ["predictions", "gradcam", "activation"]);
    assert.equal(seen.predictions[0].length, 5);
    assert.equal(seen.predictions[0][0].label, "Egyptian_cat");
    const [gradcam] = seen.explanations;
    assert.equal(gradcam.label, "Egyptian_cat");
    assert.equal(
      gradcam.map.values.length,
      gradcam.map.width * gradcam.map.height,
    );
    // The page draws overlays itself: the server renders none for it.
    assert.equal("overlay" in gradcam, false);
    assert.equal(gradcam.timings.explain >= 0, true);
  });
});

Deno.test("web api: an invalid file and an unknown method are described", async () => {
  const notAnImage = new File(["these are not pixels"], "notes.png", {
    type: "image/png",
  });
  await withServer(await sharedApp(), async (base) => {
    const api = createApi(`${base}/graphql`);
    const invalid = await explain(api, notAnImage, ["gradcam"]);
    assert.deepEqual(invalid.explanations, []);
    assert.deepEqual(invalid.problems.flat().map((p) => p.code), [
      "INVALID_IMAGE",
    ]);
    const unknown = await explain(api, await fixtureFile("chelsea.png"), [
      "nope",
    ]);
    assert.deepEqual(unknown.problems.flat().map((p) => p.code), [
      "UNKNOWN_METHOD",
    ]);
    const model = await explain(api, await fixtureFile("chelsea.png"), [
      "gradcam",
    ], "nope");
    assert.equal(model.problems.flat()[0].code, "UNKNOWN_MODEL");
    const error = await api.modelInfo("nope").catch((e) => e);
    assert.ok(error instanceof ProblemError);
    assert.equal(error.problems[0].code, "UNKNOWN_MODEL");
  });
});

Deno.test("web api: an unreachable server is a network problem", async () => {
  const api = createApi("http://127.0.0.1:9/graphql");
  const error = await api.serverInfo().catch((e) => e);
  assert.ok(error instanceof ProblemError);
  assert.equal(error.problems[0].code, "NETWORK_ERROR");
});

Deno.test("web api: a loading model is a problem worth retrying", async () => {
  const { createApp } = await import("../../server/mod.ts");
  const app = createApp(loadingApp());
  await withServer(app, async (base) => {
    const error = await createApi(`${base}/graphql`).serverInfo().catch((e) =>
      e
    );
    assert.ok(error instanceof ProblemError);
    assert.equal(error.problems[0].code, "MODEL_NOT_READY");
    assert.equal(error.problems[0].retry, true);
  });
});
