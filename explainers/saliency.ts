/**
 * Vanilla gradient saliency (Simonyan et al. 2014): how strongly each input
 * pixel moves the class logit, |∂y/∂x| maximised over the colour channels,
 * at the model input's resolution. One backward pass to the input.
 *
 * @module
 */
import { noParams } from "./cam.ts";
import { type Explainer, INPUT_GRADIENT_COST } from "./types.ts";

/**
 * max_c |v_c| per pixel of an HWC array with 3 colour values per pixel.
 *
 * @example
 * ```ts
 * maxAbsOverColours(new Float32Array([1, -4, 2, 0, 0.5, -0.25])); // [4, 0.5]
 * ```
 */
export function maxAbsOverColours(hwc: Float32Array): Float32Array {
  const out = new Float32Array(hwc.length / 3);
  for (let p = 0; p < out.length; p++) {
    out[p] = Math.max(
      Math.abs(hwc[3 * p]),
      Math.abs(hwc[3 * p + 1]),
      Math.abs(hwc[3 * p + 2]),
    );
  }
  return out;
}

/**
 * Makes the `saliency` explainer (gradients in the preprocessed input space).
 *
 * @example
 * ```ts
 * const explainer = saliencyExplainer();
 * explainer.resolution; // "input"
 * ```
 */
export function saliencyExplainer(): Explainer<Record<never, never>> {
  return {
    name: "saliency",
    description:
      "Saliency: |∂ class logit / ∂ pixel|, maximum over colour channels, at input resolution (one backward pass)",
    needsGradients: false,
    resolution: "input",
    parseParams: noParams("saliency"),
    cost: () => INPUT_GRADIENT_COST,
    async explain({ runtime, input, pass }) {
      const { gradients } = await runtime.inputGradients(
        [input],
        pass.classIndex,
      );
      const { width, height } = runtime.inputSize;
      return { width, height, values: maxAbsOverColours(gradients[0]) };
    },
  };
}
