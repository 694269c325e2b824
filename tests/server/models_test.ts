/**
 * Users' own ONNX classifiers through the API: several models served at
 * once (loaded on first use), `models` and `model(name)`, every method on a
 * torchvision export, an op the gradient builder does not know answered
 * `UNSUPPORTED_MODEL` for gradient methods while the others work.
 */
import assert from "node:assert/strict";
import { createRegistry } from "../../explainers/registry.ts";
import { encodeBase64 } from "../../lib/base64.ts";
import { encodePng } from "../../lib/render.ts";
import { createModelSet, modelEntries } from "../../models/mod.ts";
import { createApp } from "../../server/mod.ts";
import { createLocalService } from "../../workers/mod.ts";
import { type GraphQLBody, graphqlRequest, send } from "../schema/_helpers.ts";
import { classifierBytes, fixturePath } from "../models/onnx/_onnx_fixtures.ts";
import { intsAttr } from "../../models/onnx/tensors.ts";

/** A 12×12 classifier whose body ends in Softsign: no gradient rule for it. */
function softsignClassifier(): Uint8Array {
  const weights = Float32Array.from(
    { length: 4 * 3 * 3 * 3 },
    (_, i) => Math.sin(i),
  );
  return classifierBytes({
    nodes: [
      {
        name: "conv",
        opType: "Conv",
        domain: "",
        inputs: ["x", "k"],
        outputs: ["conv"],
        attributes: [intsAttr("pads", [1, 1, 1, 1])],
      },
      {
        name: "soft",
        opType: "Softsign",
        domain: "",
        inputs: ["conv"],
        outputs: ["soft"],
        attributes: [],
      },
    ],
    weights: [{ name: "k", dims: [4, 3, 3, 3], data: weights }],
    output: "soft",
    channels: 4,
  }, { size: 12 });
}

const dir = await Deno.makeTempDir({ prefix: "lumen-models-" });
const odd = `${dir}/odd.onnx`;
await Deno.writeFile(odd, softsignClassifier());

const registry = createRegistry();
const models = createModelSet(modelEntries([
  {
    name: "resnet18",
    path: fixturePath("resnet18.onnx"),
    labels: null,
    preprocess: "torch",
    layer: null,
  },
  {
    name: "mobilenet",
    path: fixturePath("mobilenet_v3_small.onnx"),
    labels: null,
    preprocess: "torch",
    layer: null,
  },
  { name: "odd", path: odd, labels: null, preprocess: "none", layer: null },
], { backend: "auto", threads: 1 }));
const service = createLocalService({ models, registry });
await service.ready();
const app = createApp({ service, registry });
const b = encodeBase64(
  await encodePng({
    width: 64,
    height: 64,
    data: new Uint8Array(64 * 64 * 3).map((_, i) => (i * 31) % 256),
  }),
);

async function query(text: string, variables: Record<string, unknown> = {}) {
  return await send(app.fetch, graphqlRequest(text, { b, ...variables }));
}

Deno.test({
  name: "models are listed, the default first, and each loads on first use",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const listed = await query("{ models { name isDefault } }");
    assert.deepEqual(listed.data!.models, [
      { name: "resnet18", isDefault: true },
      { name: "mobilenet", isDefault: false },
      { name: "odd", isDefault: false },
    ]);
    assert.deepEqual(models.loaded(), ["resnet18"]);
    const described = await query(`{ model(name: "mobilenet") {
      name backend classes inputSize defaultLayer layers { name aliases explainable }
    } }`);
    assert.equal(described.errors, undefined, JSON.stringify(described.errors));
    const model = described.data!.model as {
      name: string;
      backend: string;
      classes: number;
      inputSize: number;
      defaultLayer: string;
      layers: { name: string; aliases: string[]; explainable: boolean }[];
    };
    assert.equal(model.name, "mobilenet");
    assert.equal(model.backend, "onnxruntime");
    assert.equal(model.classes, 10);
    assert.equal(model.inputSize, 64);
    assert.ok(
      model.layers.some((l) => l.name === model.defaultLayer && l.explainable),
    );
    assert.deepEqual(models.loaded().sort(), ["mobilenet", "resnet18"]);
    const unknown = await query(`{ model(name: "nope") { name } }`);
    assert.equal(unknown.errors?.[0].extensions?.code, "UNKNOWN_MODEL");
    assert.match(unknown.errors![0].message, /"resnet18", "mobilenet", "odd"/);
  },
});

Deno.test({
  name:
    "every method explains a torchvision ResNet export, at layer4 and layer3",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    for (const layer of ["layer4", "layer3"]) {
      const body: GraphQLBody = await query(
        `query($b: String!, $m: [String!]!, $l: String) {
          explainMany(image: { base64: $b }, methods: $m, layer: $l, model: "resnet18",
            options: { scorecam: { topChannels: 8 }, occlusion: { stride: 16 },
                       integratedgradients: { steps: 4 }, smoothgrad: { samples: 2 } }) {
            method layer map { width height values }
          }
        }`,
        { m: registry.names, l: layer },
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      const results = body.data!.explainMany as {
        method: string;
        layer: string;
        map: { width: number; height: number; values: number[] };
      }[];
      assert.deepEqual(results.map((r) => r.method), registry.names);
      for (const r of results) {
        assert.equal(r.map.values.length, r.map.width * r.map.height, r.method);
        assert.ok(r.map.values.every((v) => v >= 0 && v <= 1), r.method);
      }
      assert.match(results[0].layer, new RegExp(`^/${layer}/`));
    }
    const mobile = await query(
      `query($b: String!) { explain(image: { base64: $b }, method: "gradcam", model: "mobilenet") { map { width } } }`,
    );
    assert.equal(mobile.errors, undefined, JSON.stringify(mobile.errors));
  },
});

Deno.test({
  name:
    "an op without a gradient rule: UNSUPPORTED_MODEL for gradient methods, the others work",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const explain = (method: string, layer: string | null = null) =>
      query(
        `query($b: String!, $m: String!, $l: String) { explain(image: { base64: $b }, method: $m, layer: $l, model: "odd") { label map { width } } }`,
        { m: method, l: layer },
      );
    // Gradients that would flow back through Softsign: below it, or to the input.
    for (const [method, layer] of [["gradcam", "conv"], ["saliency", null]]) {
      const body = await explain(method!, layer);
      assert.equal(
        body.errors?.[0].extensions?.code,
        "UNSUPPORTED_MODEL",
        method!,
      );
      assert.match(body.errors![0].message, /Softsign/);
    }
    // At the default layer (Softsign's output) the gradient needs no rule for it.
    const above = await explain("gradcam");
    assert.equal(above.errors, undefined, JSON.stringify(above.errors));
    for (const method of ["activation", "eigencam", "scorecam", "occlusion"]) {
      const body = await explain(method);
      assert.equal(
        body.errors,
        undefined,
        `${method}: ${JSON.stringify(body.errors)}`,
      );
    }
    const predicted = await query(
      `query($b: String!) { predict(image: { base64: $b }, model: "odd", top: 2) { classIndex } }`,
    );
    assert.equal(predicted.errors, undefined);
    await service.close();
    await Deno.remove(dir, { recursive: true });
  },
});
