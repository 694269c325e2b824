import assert from "node:assert/strict";
import { createRegistry } from "../../explainers/registry.ts";
import { createApp } from "../../server/mod.ts";
import type { ExplainService } from "../../workers/mod.ts";
import { sharedResNet50Onnx } from "../_shared.ts";
import { serviceOver } from "../_service.ts";
import {
  chelseaBase64,
  fixtureFile,
  freshChelseaBase64,
  graphqlRequest,
  send,
  sharedApp,
  uploadRequest,
  withServer,
} from "./_helpers.ts";

interface Explanation {
  method: string;
  layer: string;
  classIndex: number;
  label: string;
  probability: number;
  predictions: { label: string; probability: number }[];
  map: {
    width: number;
    height: number;
    values: number[];
    rawMin: number;
    rawMax: number;
  };
  overlay: string;
  heatmap: string;
  timings: { decode: number; forward: number; explain: number; render: number };
}

const PNG_DATA_URL = "data:image/png;base64,";

Deno.test("explain gradcam by base64: overlay, heatmap, 7×7 map in [0, 1]", async () => {
  const app = await sharedApp();
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String!) {
        explain(image: { base64: $b }, method: "gradcam") {
          method layer classIndex label probability
          predictions { label probability }
          map { width height values rawMin rawMax }
          timings { decode forward explain render }
          overlay heatmap
        }
      }`,
      { b: await chelseaBase64() },
    ),
  );
  assert.equal(body.errors, undefined);
  const e = body.data!.explain as Explanation;
  assert.equal(e.method, "gradcam");
  assert.equal(e.layer, (await sharedResNet50Onnx()).catalog.defaultLayer);
  assert.equal(e.label, "Egyptian_cat");
  assert.equal(e.classIndex, 285);
  assert.equal(e.predictions.length, 5);
  assert.equal(e.predictions[0].label, "Egyptian_cat");
  assert.equal(e.probability, e.predictions[0].probability);
  assert.equal(e.map.width, 7);
  assert.equal(e.map.height, 7);
  assert.equal(e.map.values.length, 49);
  assert.ok(e.map.values.every((v) => v >= 0 && v <= 1));
  assert.equal(Math.max(...e.map.values), 1);
  assert.ok(e.map.rawMax > 0);
  assert.ok(e.overlay.startsWith(PNG_DATA_URL));
  assert.ok(e.heatmap.startsWith(PNG_DATA_URL));
  assert.notEqual(e.overlay, e.heatmap);
  // Selected (not deferred) overlay: timings.render waits for the render.
  assert.ok(e.timings.render > 0);
  assert.ok(e.timings.forward > 0);
  assert.ok(e.timings.decode > 0);
});

Deno.test("a PNG answered to one request keeps its data URL in the next: a kept string's key never crosses answers", async () => {
  // A service that serves every request the first request's PNG bytes (as a
  // cache of renderings would): the second answer must not reuse the key
  // the first answer's kept strings gave them.
  const runtime = await sharedResNet50Onnx();
  const registry = createRegistry();
  const inner = await serviceOver(runtime, registry);
  let first: Uint8Array | undefined;
  const service: ExplainService = Object.create(inner);
  service.explain = (request, hooks = {}) =>
    inner.explain(request, {
      ...hooks,
      onRendering: (rendering) => {
        first ??= rendering.overlay;
        hooks.onRendering?.({ ...rendering, overlay: first });
      },
    });
  const app = createApp({ service, registry });
  const query = `query($b: String!) {
    explain(image: { base64: $b }, method: "gradcam") { overlay }
  }`;
  const overlays: string[] = [];
  for (const seed of [11, 12]) {
    const response = await app.fetch(
      graphqlRequest(query, { b: await freshChelseaBase64(seed) }),
    );
    const body = JSON.parse(await response.text());
    assert.equal(body.errors, undefined);
    overlays.push(body.data.explain.overlay);
  }
  assert.ok(overlays[0].startsWith(PNG_DATA_URL));
  assert.equal(overlays[1], overlays[0]);
});

Deno.test("explain renders nothing when overlay and heatmap are not selected", async () => {
  const app = await sharedApp();
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String!) {
        explain(image: { base64: $b }, method: "activation", layer: "layer3",
                className: "tabby") {
          method layer label classIndex
          timings { render explain }
        }
      }`,
      { b: await chelseaBase64() },
    ),
  );
  assert.equal(body.errors, undefined);
  const e = body.data!.explain as Explanation;
  assert.equal(e.timings.render, 0);
  assert.ok(e.timings.explain >= 0);
  assert.equal(e.label, "tabby");
  assert.equal(e.classIndex, 281);
  assert.equal(e.method, "activation");
  const layer3 = (await sharedResNet50Onnx()).catalog.resolve("layer3");
  assert.equal(e.layer, layer3.name);
});

Deno.test("explain by multipart upload over HTTP, with render options", async () => {
  const app = await sharedApp();
  const file = await fixtureFile("chelsea.jpg");
  await withServer(app, async (base) => {
    const body = await send(
      fetch,
      uploadRequest(
        `query($file: File!) {
          explain(image: { file: $file }, method: "gradcam",
                  render: { colormap: "viridis", alpha: 0.5 }) {
            label map { width height } heatmap
          }
        }`,
        "file",
        file,
        { base },
      ),
    );
    assert.equal(body.errors, undefined);
    const e = body.data!.explain as Explanation;
    assert.equal(e.label, "Egyptian_cat");
    assert.equal(e.map.width, 7);
    assert.ok(e.heatmap.startsWith(PNG_DATA_URL));
  });
});

Deno.test("explainMany without @stream keeps the order of methods", async () => {
  const app = await sharedApp();
  const runtime = await sharedResNet50Onnx();
  const before = runtime.counters.forward;
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String!) {
        explainMany(image: { base64: $b },
                    methods: ["gradcam", "activation", "gradcam"]) {
          method label map { width }
        }
      }`,
      { b: await freshChelseaBase64(1) },
    ),
  );
  assert.equal(body.errors, undefined);
  const list = body.data!.explainMany as Explanation[];
  assert.deepEqual(list.map((e) => e.method), ["gradcam", "activation"]);
  assert.ok(list.every((e) => e.label === "Egyptian_cat"));
  // One shared model pass for all methods.
  assert.equal(runtime.counters.forward - before, 1);
});

Deno.test("explainMany at ResNet-50's last stage: HiResCAM's map is Grad-CAM's bit for bit, and so is its overlay; at layer3 they differ", async () => {
  const app = await sharedApp();
  const many = async (layer: string) => {
    const body = await send(
      app.fetch,
      graphqlRequest(
        `query($b: String!, $layer: String!) {
          explainMany(image: { base64: $b }, layer: $layer,
                      methods: ["gradcam", "gradcam++", "hirescam"]) {
            method overlay map { values }
          }
        }`,
        { b: await freshChelseaBase64(2), layer },
      ),
    );
    assert.equal(body.errors, undefined);
    return body.data!.explainMany as Explanation[];
  };
  const [gradcam, plusPlus, hires] = await many("layer4");
  assert.deepEqual(hires.map.values, gradcam.map.values);
  assert.equal(hires.overlay, gradcam.overlay);
  assert.notEqual(plusPlus.overlay, gradcam.overlay);
  const inner = await many("layer3");
  assert.notDeepEqual(inner[2].map.values, inner[0].map.values);
  assert.notEqual(inner[2].overlay, inner[0].overlay);
});

Deno.test("model and explainers describe the server", async () => {
  const app = await sharedApp();
  const body = await send(
    app.fetch,
    graphqlRequest(`{
      model {
        name backend adapter inputSize classes preprocessing defaultLayer
        layers { name shape kind aliases explainable }
        labels
      }
      explainers { name description needsGradients slow }
    }`),
  );
  assert.equal(body.errors, undefined);
  const model = body.data!.model as Record<string, unknown>;
  assert.equal(model.backend, "onnxruntime");
  assert.equal(model.inputSize, 224);
  assert.equal(model.classes, 1000);
  assert.equal((model.labels as string[])[285], "Egyptian_cat");
  const layers = model.layers as { name: string; explainable: boolean }[];
  assert.ok(layers.some((l) => l.name === model.defaultLayer && l.explainable));
  const explainers = body.data!.explainers as { name: string; slow: boolean }[];
  const names = explainers.map((e) => e.name);
  assert.ok(
    names.includes("activation") && names.includes("gradcam"),
    names.join(),
  );
  // The methods that run dozens of extra passes say so up front.
  assert.deepEqual(
    explainers.filter((e) => e.slow).map((e) => e.name),
    [
      "scorecam",
      "ablationcam",
      "smoothgrad",
      "integratedgradients",
      "occlusion",
    ],
  );
});
