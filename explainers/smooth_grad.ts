/**
 * SmoothGrad (Smilkov et al. 2017): the saliency map averaged over copies of
 * the input with Gaussian noise added, which removes much of the gradients'
 * speckle. `samples` backward passes to the input (batched).
 *
 * @module
 */
import { gaussianSource } from "../lib/mod.ts";
import { numberOptions, type ParsedOptions } from "./_options.ts";
import { maxAbsOverColours } from "./_maths.ts";
import { inputGradientExplainer } from "./_input_gradients.ts";
import type { Explainer } from "./types.ts";

const OPTIONS = {
  samples: { integer: true, min: 1, max: 1024, default: 16 },
  /** Noise standard deviation in the preprocessed input space. */
  sigma: { min: 0, max: 1e6, default: null },
  seed: { integer: true, min: 0, max: 2 ** 31 - 1, default: 0 },
  batchSize: { integer: true, min: 1, max: 256, default: 8 },
};

/**
 * Options of `smoothgrad`: `samples` (@default 16); `sigma`, the noise's
 * standard deviation in the preprocessed input space (@default 0.15 × (max −
 * min) of the input); `seed` of the noise (@default 0); `batchSize`
 * (@default 8).
 */
export type SmoothGradParams = ParsedOptions<typeof OPTIONS>;

/**
 * The noise level SmoothGrad uses by default: 15 % of the input's range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(defaultSigma(new Float32Array([-1, 1])), 0.3);
 * ```
 */
export function defaultSigma(input: Float32Array): number {
  let min = Infinity;
  let max = -Infinity;
  for (const v of input) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return input.length === 0 ? 0 : 0.15 * (max - min);
}

/**
 * Makes the `smoothgrad` explainer: map = (1/n) Σ_s max_c |∂y/∂x_c| at
 * x + ε_s, ε_s ~ N(0, σ²) per value, drawn from a generator seeded with
 * `seed` (sample s always gets the same noise, whatever the batch size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = smoothGradExplainer();
 * assert.equal(explainer.parseParams({ samples: 4, sigma: 0.1 }).samples, 4);
 * ```
 */
export function smoothGradExplainer(): Explainer<SmoothGradParams> {
  return inputGradientExplainer({
    name: "smoothgrad",
    description:
      "SmoothGrad: the saliency map averaged over noisy copies of the input (one backward pass per sample)",
    slow: true,
    parseParams: numberOptions("smoothgrad", OPTIONS),
    points: (params) => params.samples,
    batchSize: (params) => params.batchSize,
    walk: ({ input }, params) => {
      const sigma = params.sigma ?? defaultSigma(input);
      const next = gaussianSource(params.seed);
      const sum = new Float64Array(input.length / 3);
      return {
        point: () => {
          const noisy = new Float32Array(input.length);
          for (let j = 0; j < noisy.length; j++) {
            noisy[j] = input[j] + sigma * next();
          }
          return noisy;
        },
        add: (gradient) => {
          const map = maxAbsOverColours(gradient);
          for (let p = 0; p < map.length; p++) sum[p] += map[p];
        },
        finish: () => {
          const values = new Float32Array(sum.length);
          for (let p = 0; p < values.length; p++) {
            values[p] = sum[p] / params.samples;
          }
          return { values };
        },
      };
    },
  });
}
