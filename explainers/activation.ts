/**
 * The activation heatmap: ReLU(Σ_channels A), class-agnostic.
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import type { Explainer } from "./types.ts";

/**
 * Makes the `activation` explainer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = activationExplainer();
 * assert.equal(explainer.needsGradients, false);
 * ```
 */
export function activationExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "activation",
    description:
      "Activation heatmap: the channel sum of the layer's activations (class-agnostic, no gradients)",
    needsGradients: false,
    weights: (a) => new Float32Array(a.channels).fill(1),
  });
}
