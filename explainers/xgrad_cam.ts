/**
 * XGrad-CAM (Fu et al. 2020): channel weights are the gradients averaged
 * with the channel's own normalised activations as the weights.
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import type { Explainer } from "./types.ts";
import type { FeatureMap } from "../models/mod.ts";

/**
 * The XGrad-CAM channel weights: w_k = Σ_ij G·A / (Σ_ij A + 1e-7).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = { height: 1, width: 2, channels: 1, data: new Float32Array([1, 3]) };
 * const g = { height: 1, width: 2, channels: 1, data: new Float32Array([2, 1]) };
 * assert.deepEqual(xGradCamWeights(a, g), new Float32Array([(2 + 3) / (4 + 1e-7)]));
 * ```
 */
export function xGradCamWeights(a: FeatureMap, g: FeatureMap): Float32Array {
  const { height, width, channels } = a;
  const products = new Float64Array(channels);
  const sums = new Float64Array(channels);
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < channels; k++) {
      const i = p * channels + k;
      products[k] += g.data[i] * a.data[i];
      sums[k] += a.data[i];
    }
  }
  return Float32Array.from(products, (v, k) => v / (sums[k] + 1e-7));
}

/**
 * Makes the `xgradcam` explainer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = xGradCamExplainer();
 * assert.equal(explainer.name, "xgradcam");
 * ```
 */
export function xGradCamExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "xgradcam",
    description:
      "XGrad-CAM: activations weighted by the activation-weighted mean of their gradients",
    needsGradients: true,
    weights: (a, g) => xGradCamWeights(a, g!),
  });
}
