/**
 * Grad-CAM++ (Chattopadhay et al. 2018): channel weights that count each
 * location's positive gradient by a per-location coefficient α, so that
 * several instances of a class all contribute.
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import type { Explainer } from "./types.ts";
import type { FeatureMap } from "../models/mod.ts";

/**
 * The Grad-CAM++ channel weights, with S_k = Σ_ij A_ijk:
 * α_ijk = G² / (2G² + S_k·G³ + 1e-6) (0 where G = 0), and
 * w_k = Σ_ij ReLU(G_ijk) · α_ijk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = { height: 1, width: 1, channels: 1, data: new Float32Array([2]) };
 * const g = { height: 1, width: 1, channels: 1, data: new Float32Array([1]) };
 * assert.deepEqual(gradCamPlusPlusWeights(a, g), new Float32Array([1 / (2 + 2 + 1e-6)]));
 * ```
 */
export function gradCamPlusPlusWeights(
  a: FeatureMap,
  g: FeatureMap,
): Float32Array {
  const { height, width, channels } = a;
  const sums = new Float64Array(channels);
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < channels; k++) sums[k] += a.data[p * channels + k];
  }
  const weights = new Float64Array(channels);
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < channels; k++) {
      const grad = g.data[p * channels + k];
      if (grad <= 0) continue; // ReLU(G) = 0, and α = 0 where G = 0
      const g2 = grad * grad;
      weights[k] += grad * g2 / (2 * g2 + sums[k] * g2 * grad + 1e-6);
    }
  }
  return Float32Array.from(weights);
}

/**
 * Makes the `gradcam++` explainer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = gradCamPlusPlusExplainer();
 * assert.equal(explainer.name, "gradcam++");
 * ```
 */
export function gradCamPlusPlusExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "gradcam++",
    description:
      "Grad-CAM++: activations weighted by positive gradients, each location scaled by a second/third-order coefficient",
    needsGradients: true,
    weights: (a, g) => gradCamPlusPlusWeights(a, g!),
  });
}
