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
    // Summed as it goes, as `elementwiseSum` would sum the weights: no
    // array of them the size of the layer (fresh memory, 400 KB at layer4).
    map: (a, g) => {
      const { height, width, channels, data } = a;
      const gradients = g!.data;
      const values = new Float32Array(height * width);
      for (let p = 0, i = 0; p < height * width; p++) {
        let sum = 0;
        for (let k = 0; k < channels; k++, i++) {
          const weight = gradients[i] > 0 ? gradients[i] : 0;
          sum += weight * data[i];
        }
        values[p] = sum;
      }
      return { width, height, values };
    },
  });
}
