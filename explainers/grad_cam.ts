/**
 * Grad-CAM (Selvaraju et al. 2017): channel weights are the spatial mean of
 * d(pre-softmax class logit)/d(activations).
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import type { Explainer } from "./types.ts";
import { channelMeans } from "./_maths.ts";

/**
 * Makes the `gradcam` explainer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = gradCamExplainer();
 * assert.equal(explainer.needsGradients, true);
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
