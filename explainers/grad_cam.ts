/**
 * Grad-CAM (Selvaraju et al. 2017): channel weights are the spatial mean of
 * d(pre-softmax class logit)/d(activations).
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import type { Explainer } from "./types.ts";
import type { FeatureMap } from "../models/mod.ts";

/**
 * Spatial mean of each channel of an HWC map.
 *
 * @example
 * ```ts
 * channelMeans({ height: 1, width: 2, channels: 1, data: new Float32Array([1, 3]) }); // [2]
 * ```
 */
export function channelMeans(map: FeatureMap): Float32Array {
  const { height, width, channels, data } = map;
  const means = new Float32Array(channels);
  const sums = new Float64Array(channels);
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < channels; k++) sums[k] += data[p * channels + k];
  }
  for (let k = 0; k < channels; k++) means[k] = sums[k] / (height * width);
  return means;
}

/**
 * Makes the `gradcam` explainer.
 *
 * @example
 * ```ts
 * const explainer = gradCamExplainer();
 * explainer.needsGradients; // true
 * ```
 */
export function gradCamExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "gradcam",
    description:
      "Grad-CAM: activations weighted by the spatial mean of the class logit's gradient",
    needsGradients: true,
    weights: (_a, g) => channelMeans(g!),
  });
}
