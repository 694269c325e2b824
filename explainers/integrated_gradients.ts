/**
 * Integrated gradients (Sundararajan et al. 2017) from a black baseline:
 * attribution = (x − x′) ⊙ the average gradient along the straight path
 * from x′ to x, so that attributions add up to y(x) − y(x′) (completeness).
 * One forward pass for the baseline, then `steps` backward passes to the
 * input (batched).
 *
 * @module
 */
import { numberOptions, type ParsedOptions } from "./_options.ts";
import { inputGradientExplainer } from "./_input_gradients.ts";
import type { Explainer } from "./types.ts";

const OPTIONS = {
  steps: { integer: true, min: 1, max: 1024, default: 32 },
  batchSize: { integer: true, min: 1, max: 256, default: 8 },
};

/** Options of `integratedgradients`: `steps` (@default 32), `batchSize` (@default 8). */
export type IntegratedGradientsParams = ParsedOptions<typeof OPTIONS>;

/**
 * Makes the `integratedgradients` explainer.
 *
 * - Baseline x′: the preprocessed all-black image of the model's input size.
 * - Path integral by the midpoint rule: gradients at x′ + α_i (x − x′),
 *   α_i = (i + ½) / steps, i = 0 … steps − 1, averaged.
 * - attribution = (x − x′) ⊙ mean gradient (preprocessed space, HWC); the
 *   map is its signed sum over the colour channels (the shared ReLU then
 *   keeps the evidence for the class).
 * - `details`: `completenessError` = |Σ attribution − (y(x) − y(x′))| /
 *   |y(x) − y(x′)|, with `attributionSum` and `logitDifference` (y is the
 *   class logit).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = integratedGradientsExplainer();
 * assert.deepEqual(explainer.parseParams({ steps: 64 }), { steps: 64, batchSize: 8 });
 * ```
 */
export function integratedGradientsExplainer(): Explainer<
  IntegratedGradientsParams
> {
  return inputGradientExplainer({
    name: "integratedgradients",
    description:
      "Integrated gradients: (input − black) times the gradient averaged along the path from black, summed over colours (one backward pass per step)",
    slow: true,
    parseParams: numberOptions("integratedgradients", OPTIONS),
    points: (params) => params.steps,
    batchSize: (params) => params.batchSize,
    // The baseline's forward.
    extraCost: () => 1,
    async walk({ runtime, input, pass, signal }, { steps }) {
      const { width, height } = runtime.inputSize;
      const baseline = runtime.prepare({
        width,
        height,
        data: new Uint8Array(width * height * 3),
      });
      const classIndex = pass.classIndex;
      signal?.throwIfAborted();
      const [baselineLogits] = await runtime.logits([baseline]);
      const gradientSum = new Float64Array(input.length);
      return {
        point: (i) => {
          const alpha = (i + 0.5) / steps;
          const point = new Float32Array(input.length);
          for (let j = 0; j < point.length; j++) {
            point[j] = baseline[j] + alpha * (input[j] - baseline[j]);
          }
          return point;
        },
        add: (gradient) => {
          for (let j = 0; j < gradient.length; j++) {
            gradientSum[j] += gradient[j];
          }
        },
        finish: () => {
          const values = new Float32Array(width * height);
          let attributionSum = 0;
          for (let p = 0; p < values.length; p++) {
            let sum = 0;
            for (let c = 0; c < 3; c++) {
              const j = 3 * p + c;
              sum += (input[j] - baseline[j]) * gradientSum[j] / steps;
            }
            values[p] = sum;
            attributionSum += sum;
          }
          const logitDifference = pass.logits[classIndex] -
            baselineLogits[classIndex];
          return {
            values,
            details: {
              completenessError: Math.abs(attributionSum - logitDifference) /
                Math.abs(logitDifference),
              attributionSum,
              logitDifference,
            },
          };
        },
      };
    },
  });
}
