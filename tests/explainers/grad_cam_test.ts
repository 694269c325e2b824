import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { analyzeImage } from "../../explainers/analysis.ts";
import { channelMeans } from "../../explainers/_maths.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { sanityCheck } from "../../explainers/evaluation/sanity.ts";
import {
  loadModel,
  type ModelRuntime,
  randomizedRuntime,
  RESNET50_MODEL,
  resnet50Artifacts,
} from "../../models/mod.ts";
import { fileHandler } from "../../models/tfjs/io.ts";
import { selectBackend } from "../../models/tfjs/backend.ts";
import {
  fixtureImage,
  inMemoryHandler,
  sharedResNet50,
  tinyResNet,
} from "../_shared.ts";

/**
 * The class logit as a function of layer `at`'s output, evaluated with the
 * Keras layers themselves (not Lumen's graph): an independent reference.
 */
function referenceLogit(
  model: tfl.LayersModel,
  input: tf.Tensor,
  at: string,
  classIndex: number,
): { activation: tf.Tensor; logitOf: (a: tf.Tensor) => number } {
  const inputsOf = (l: tfl.layers.Layer) =>
    l.inboundNodes[0].inboundLayers.map((p) => p.name);
  const base = new Map<string, tf.Tensor>([[model.inputLayers[0].name, input]]);
  const run = (values: Map<string, tf.Tensor>, from: number) => {
    for (const layer of model.layers.slice(from)) {
      if (values.has(layer.name)) continue;
      const xs = inputsOf(layer).map((n) => values.get(n)!);
      if (layer.name === "logits") {
        const [w, b] = layer.getWeights();
        values.set(
          layer.name,
          tf.add(tf.matMul(xs[0] as tf.Tensor2D, w as tf.Tensor2D), b),
        );
      } else {
        values.set(
          layer.name,
          layer.apply(xs.length === 1 ? xs[0] : xs) as tf.Tensor,
        );
      }
    }
  };
  run(base, 0);
  const index = model.layers.findIndex((l) => l.name === at);
  return {
    activation: base.get(at)!,
    logitOf: (a) =>
      tf.tidy(() => {
        const values = new Map<string, tf.Tensor>();
        // Only what does not depend on `at` is reused: layers before it.
        for (const layer of model.layers.slice(0, index)) {
          values.set(layer.name, base.get(layer.name)!);
        }
        values.set(at, a);
        run(values, index + 1);
        return values.get("logits")!.dataSync()[classIndex];
      }),
  };
}

async function checkAgainstFiniteDifferences(layer: string) {
  await selectBackend("cpu");
  const model = tinyResNet({ size: 16 });
  const runtime = await loadModel({
    model: await inMemoryHandler(model),
    backend: "cpu",
    preprocessing: "tf",
    warmUp: false,
  });
  const input = new Float32Array(16 * 16 * 3).map((_, i) => Math.cos(i * 0.71));
  const classIndex = 3;
  const pass = await runtime.run(input, { layer, gradients: true, classIndex });
  const weights = channelMeans(pass.gradients!);
  const largest = Math.max(...weights.map(Math.abs));

  const x = tf.tensor4d(input, [1, 16, 16, 3]);
  const ref = referenceLogit(model, x, layer, classIndex);
  const a = ref.activation;
  const [, h, w, k] = a.shape;
  // Small enough to cross few ReLU kinks, large enough for float32.
  const eps = 3e-3;
  for (let c = 0; c < k; c++) {
    // Moving a whole channel by ε changes the logit by ε·Σ_ij ∂y/∂A_ijc.
    const bump = tf.tidy(() =>
      tf.mul(tf.oneHot(tf.fill([1, h!, w!], c, "int32"), k!), eps)
    );
    const up = ref.logitOf(tf.add(a, bump));
    const down = ref.logitOf(tf.sub(a, bump));
    const fd: number = (up - down) / (2 * eps) / (h! * w!);
    // Relative to the largest weight: float32 differences cannot resolve
    // a tiny weight to 1e-3 of itself.
    const error: number = Math.abs(fd - weights[c]) / largest;
    assert.ok(
      error <= 1e-3,
      `${layer} channel ${c}: analytic ${
        weights[c]
      } vs finite difference ${fd}`,
    );
    bump.dispose();
  }
  runtime.dispose();
  model.dispose();
}

Deno.test("Grad-CAM weights match finite differences inside a residual branch", async () => {
  await checkAgainstFiniteDifferences("b_relu2");
});

Deno.test("Grad-CAM weights match finite differences at a block output", async () => {
  await checkAgainstFiniteDifferences("b_out");
});

async function gradCam(runtime: ModelRuntime, classIndex?: number) {
  const analysis = await analyzeImage(
    { runtime, registry: createRegistry() },
    await fixtureImage("chelsea.png"),
    { methods: ["gradcam"], layer: "layer4", classIndex },
  );
  return (await analysis.explain("gradcam")).heatmap;
}

/**
 * Class activation mapping (Zhou et al. 2016) at ResNet-50's last block,
 * computed from fc1000's weights as Keras stores them: above layer4 there
 * is only global average pooling and the Dense layer, so d(logit c)/dA is
 * W[:, c]/49 at every position and Grad-CAM must equal
 * ReLU(Σ_k A_k·W[k, c]), scaled to a maximum of 1. No backward pass here.
 */
function camFromWeights(
  activations: Float32Array,
  kernel: Float32Array,
  classIndex: number,
  classes: number,
): number[] {
  const channels = kernel.length / classes;
  const map: number[] = [];
  for (let p = 0; p < activations.length / channels; p++) {
    let sum = 0;
    for (let k = 0; k < channels; k++) {
      sum += activations[p * channels + k] * kernel[k * classes + classIndex];
    }
    map.push(Math.max(0, sum));
  }
  const max = Math.max(...map);
  return map.map((v) => v / max);
}

Deno.test("Grad-CAM at layer4 equals CAM from fc1000's class column, for Egyptian_cat (peaking on the cat) and espresso", async () => {
  const runtime = await sharedResNet50();
  const pass = await runtime.run(
    runtime.prepare(await fixtureImage("chelsea.png")),
    { layer: "layer4" },
  );
  const model = await tfl.loadLayersModel(fileHandler(RESNET50_MODEL));
  let kernel: Float32Array;
  try {
    const [weights] = model.getLayer("fc1000").getWeights();
    assert.deepEqual(weights.shape, [2048, 1000]);
    kernel = await weights.data() as Float32Array;
  } finally {
    model.dispose();
  }
  const maps: Record<string, Float32Array> = {};
  for (const label of ["Egyptian_cat", "espresso"]) {
    const classIndex = runtime.labels.indexOf(label);
    const map = await gradCam(runtime, classIndex);
    assert.deepEqual([map.width, map.height], [7, 7]);
    const expected = camFromWeights(
      pass.activations!.data,
      kernel,
      classIndex,
      1000,
    );
    map.values.forEach((v, i) =>
      assert.ok(
        Math.abs(v - expected[i]) < 1e-4,
        `${label} [${i}]: ${v} vs CAM ${expected[i]}`,
      )
    );
    maps[label] = map.values;
  }
  const peak = maps.Egyptian_cat.indexOf(1);
  const [row, col] = [Math.floor(peak / 7), peak % 7];
  // The cat fills the middle and right of the photo; corners are background.
  assert.ok(row >= 1 && row <= 5 && col >= 1, `peak at row ${row}, col ${col}`);
  // Two classes, two different maps (CAM's columns differ).
  const apart = maps.Egyptian_cat.some((v, i) =>
    Math.abs(v - maps.espresso[i]) > 0.3
  );
  assert.ok(apart, "the espresso map differs from the cat's");
});

Deno.test("Grad-CAM changes when the classifier and last block are randomized (cascading, Adebayo et al.)", async () => {
  const trained = await sharedResNet50();
  const randomized = await randomizedRuntime(resnet50Artifacts, {
    labels: trained.labels,
    backend: "wasm",
  });
  const { spearman } = await sanityCheck(
    { trained, randomized, registry: createRegistry() },
    {
      image: await fixtureImage("chelsea.png"),
      method: "gradcam",
      layer: "layer4",
      classIndex: trained.labels.indexOf("Egyptian_cat"),
    },
  );
  assert.ok(spearman < 0.5, `Spearman ρ = ${spearman}`);
  // The randomized model is shared by the process: asking again is free.
  assert.equal(
    await randomizedRuntime(resnet50Artifacts, {
      labels: trained.labels,
      backend: "wasm",
    }),
    randomized,
  );
});
