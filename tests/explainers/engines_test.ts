/**
 * The shipped ResNet-50 explains the same on ONNX Runtime as on TF.js WASM:
 * every method's map, on chelsea and coffee, at `layer4` and at a layer
 * inside the last residual block, within 1e-4 of the map's largest value.
 * Methods whose map is over the input (saliency, SmoothGrad, integrated
 * gradients, occlusion) do not depend on the layer and run once per image;
 * the slow ones run with fewer samples (the engines' agreement, not the
 * methods' quality, is under test).
 *
 * The gradient to the input is the exception, and not for a bug: on these
 * photos a few ReLU units below layer3 sum to within float32 rounding of
 * zero (chelsea: activation_39 at (10, 4, 899), −5.5e-7 in float64), and
 * each float32 engine rounds some to the other side — TF.js WASM, TF.js CPU,
 * ONNX Runtime and float32 PyTorch each differ from the float64 gradient by
 * 3e-3 to 8e-3 of its maximum at the input (tools/peer_maps.py measures
 * it; tests/models/tfjs/gradient_pass_test.ts and
 * tests/models/tfjs/engines_agree_test.ts check the gradients where no unit
 * is that close). Those maps must agree in shape: within 5e-2 of the
 * maximum and with a correlation of at least 0.999.
 */
import assert from "node:assert/strict";
import { builtinExplainers } from "../../explainers/mod.ts";
import { loadModel, type ModelRuntime } from "../../models/mod.ts";
import { fixtureImage, sharedResNet50 } from "../_shared.ts";

const IMAGES = ["chelsea.png", "coffee.png"];
/** `layer4`, and the ReLU between the 3×3 and the last 1×1 convolution of block 5b. */
const LAYERS = ["layer4", "conv5_block2_2_relu"];
const FEWER_PASSES: Record<string, unknown> = {
  // One masked forward per channel: 16 on TF.js WASM are 2 s, 64 are 8.
  scorecam: { topChannels: 16 },
  smoothgrad: { samples: 4 },
  integratedgradients: { steps: 8 },
  occlusion: { size: 64, stride: 32 },
};

/** Methods that differentiate down to the input (see above). */
const TO_INPUT = new Set(["saliency", "smoothgrad", "integratedgradients"]);

/** Pearson's correlation. */
function correlation(a: Float32Array, b: Float32Array): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i] / a.length;
    mb += b[i] / b.length;
  }
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** max |a − b| over max |b|. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

let onnx: Promise<ModelRuntime> | null = null;
const onnxResNet50 = () => onnx ??= loadModel({ backend: "onnxruntime" });

for (const image of IMAGES) {
  Deno.test({
    name:
      `every method's map on onnxruntime equals TF.js WASM's within 1e-4, gradients to the input within float32's ReLU flips (${image}; ${
        LAYERS.join(", ")
      })`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const [wasm, ort] = [await sharedResNet50(), await onnxResNet50()];
      assert.equal(wasm.backend.name, "wasm");
      assert.equal(ort.backend.name, "onnxruntime");
      const input = wasm.prepare(await fixtureImage(image));
      assert.deepEqual(ort.prepare(await fixtureImage(image)), input);
      const differences: string[] = [];
      let compared = 0;
      for (const layer of LAYERS) {
        for (const explainer of builtinExplainers()) {
          if (explainer.resolution === "input" && layer !== LAYERS[0]) continue;
          const params = explainer.parseParams(FEWER_PASSES[explainer.name]);
          const maps = [];
          for (const runtime of [wasm, ort]) {
            const pass = await runtime.run(input, {
              layer,
              gradients: explainer.needsGradients,
            });
            maps.push(
              await explainer.explain({ runtime, pass, input }, params),
            );
          }
          const [expected, actual] = maps;
          assert.deepEqual(
            [actual.width, actual.height],
            [expected.width, expected.height],
          );
          const d = relativeDifference(actual.values, expected.values);
          compared++;
          if (TO_INPUT.has(explainer.name)) {
            const r = correlation(actual.values, expected.values);
            if (!(d < 5e-2 && r >= 0.999)) {
              differences.push(
                `${explainer.name}: ${d.toExponential(2)}, r = ${r.toFixed(5)}`,
              );
            }
          } else if (!(d < 1e-4)) {
            differences.push(
              `${explainer.name} at ${layer}: ${d.toExponential(2)}`,
            );
          }
        }
      }
      assert.ok(compared > 0);
      assert.deepEqual(differences, []);
    },
  });
}
