/**
 * EigenGradCAM: EigenCAM on the gradient-weighted activations G ⊙ A, which
 * makes the principal component class-specific.
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import { firstComponentProjection } from "./eigen_cam.ts";
import type { Explainer } from "./types.ts";

/**
 * Makes the `eigengradcam` explainer: the first-component projection of
 * G ⊙ A, signed to correlate positively with Σ_k G_k ⊙ A_k (the HiResCAM map).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = eigenGradCamExplainer();
 * assert.equal(explainer.needsGradients, true);
 * ```
 */
export function eigenGradCamExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "eigengradcam",
    description:
      "EigenGradCAM: the gradient-times-activation products projected on their first principal component",
    needsGradients: true,
    map: (a, g) => firstComponentProjection(a, g!.data),
  });
}
