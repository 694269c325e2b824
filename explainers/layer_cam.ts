/**
 * LayerCAM (Jiang et al. 2021): each activation is weighted by its own
 * positive gradient, which keeps fine detail at shallow layers.
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import type { Explainer } from "./types.ts";

/**
 * Makes the `layercam` explainer: map = Σ_k ReLU(G_k) ⊙ A_k.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = layerCamExplainer();
 * assert.equal(explainer.needsGradients, true);
 * ```
 */
export function layerCamExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "layercam",
    description:
      "LayerCAM: the channel sum of activations times their positive gradients, location by location",
    needsGradients: true,
    elementWeights: (_a, g) => {
      const positive = new Float32Array(g!.data.length);
      for (let i = 0; i < positive.length; i++) {
        positive[i] = g!.data[i] > 0 ? g!.data[i] : 0;
      }
      return positive;
    },
  });
}
