/**
 * Vanilla gradient saliency (Simonyan et al. 2014): how strongly each input
 * pixel moves the class logit, |∂y/∂x| maximised over the colour channels,
 * at the model input's resolution. One backward pass to the input.
 *
 * @module
 */
import { maxAbsOverColours } from "./_maths.ts";
import { inputGradientExplainer } from "./_input_gradients.ts";
import { noParams } from "./cam.ts";
import type { Explainer } from "./types.ts";

/**
 * Makes the `saliency` explainer (gradients in the preprocessed input space).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = saliencyExplainer();
 * assert.equal(explainer.resolution, "input");
 * ```
 */
export function saliencyExplainer(): Explainer<Record<never, never>> {
  return inputGradientExplainer({
    name: "saliency",
    description:
      "Saliency: |∂ class logit / ∂ pixel|, maximum over colour channels, at input resolution (one backward pass)",
    parseParams: noParams("saliency"),
    points: () => 1,
    walk: ({ input }) => {
      let values: Float32Array = new Float32Array(0);
      return {
        point: () => input,
        add: (gradient) => (values = maxAbsOverColours(gradient)),
        finish: () => ({ values }),
      };
    },
  });
}
