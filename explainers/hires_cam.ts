/**
 * HiResCAM (Draelos & Carin 2020): the gradient multiplies each activation
 * in place instead of being averaged per channel, so the map shows exactly
 * which locations raise the class score (for a network ending in global
 * average pooling, the map sums to the score's change).
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import type { Explainer } from "./types.ts";

/**
 * Makes the `hirescam` explainer: map = Σ_k G_k ⊙ A_k.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = hiResCamExplainer();
 * assert.equal(explainer.needsGradients, true);
 * ```
 */
export function hiResCamExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "hirescam",
    description:
      "HiResCAM: the channel sum of gradient times activation, location by location (no averaging)",
    needsGradients: true,
    elementWeights: (_a, g) => g!.data,
  });
}
