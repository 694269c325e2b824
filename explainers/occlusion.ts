/**
 * Occlusion (Zeiler & Fergus 2014): a patch slides over the input; each
 * position's value is how much the class probability drops when the patch
 * is filled. The map has one value per patch position. One forward pass per
 * position (batched).
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";
import { batchesOf, inBatches } from "./_batch.ts";
import { softmax } from "./_maths.ts";
import { numberOptions, type ParsedOptions } from "./_options.ts";
import type { Explainer } from "./types.ts";

const OPTIONS = {
  size: { integer: true, min: 1, max: 4096, default: null },
  stride: { integer: true, min: 1, max: 4096, default: null },
  fill: { min: -1e6, max: 1e6, default: 0 },
  batchSize: { integer: true, min: 1, max: 256, default: 16 },
};

/**
 * Options of `occlusion`: patch `size` and `stride` in input pixels
 * (@default 32 and 16 for a 224-pixel input, scaled with the input width
 * otherwise), `fill` value in the preprocessed input space (@default 0: the
 * mean colour for ResNet-50's preprocessing), `batchSize` (@default 16).
 */
export type OcclusionParams = ParsedOptions<typeof OPTIONS>;

/** The patch grid of an input: positions are `i * stride`, i = 0 … count − 1. */
export interface OcclusionGrid {
  size: number;
  stride: number;
  columns: number;
  rows: number;
}

/**
 * The grid of patch positions: floor((side − size) / stride) + 1 per axis;
 * a remainder narrower than the stride at the right or bottom is never
 * occluded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The defaults for a 224-pixel input: 32 px patches every 16 px.
 * assert.deepEqual(
 *   occlusionGrid(224, 224, { size: null, stride: null }),
 *   { size: 32, stride: 16, columns: 13, rows: 13 },
 * );
 * ```
 */
export function occlusionGrid(
  width: number,
  height: number,
  options: { size: number | null; stride: number | null },
): OcclusionGrid {
  const size = options.size ?? Math.max(1, Math.round(width * 32 / 224));
  const stride = options.stride ?? Math.max(1, Math.round(width * 16 / 224));
  if (size > width || size > height) {
    throw clientError(
      "BAD_USER_INPUT",
      `occlusion: size must be at most the input's ${
        Math.min(width, height)
      } pixels, got ${size}`,
    );
  }
  return {
    size,
    stride,
    columns: Math.floor((width - size) / stride) + 1,
    rows: Math.floor((height - size) / stride) + 1,
  };
}

/**
 * Makes the `occlusion` explainer: map(r, c) = p(x) − p(x with the patch at
 * (r·stride, c·stride) filled), p the class's softmax probability.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = occlusionExplainer();
 * assert.equal(explainer.parseParams({ size: 64, stride: 32 }).fill, 0);
 * ```
 */
export function occlusionExplainer(): Explainer<OcclusionParams> {
  return {
    name: "occlusion",
    description:
      "Occlusion: the drop in class probability when a sliding patch hides each part of the input (one forward pass per position)",
    needsGradients: false,
    slow: true,
    resolution: "input",
    parseParams: numberOptions("occlusion", OPTIONS),
    cost: (params, { inputSize }) => {
      const grid = occlusionGrid(inputSize.width, inputSize.height, params);
      return grid.rows * grid.columns;
    },
    async explain(ctx, params) {
      const { runtime, input, pass } = ctx;
      const { width, height } = runtime.inputSize;
      const grid = occlusionGrid(width, height, params);
      const classIndex = pass.classIndex;
      const count = grid.rows * grid.columns;
      const probabilities = await inBatches(
        { count, batchSize: batchesOf(runtime, params.batchSize, {}) },
        async (start, end) => {
          const batch = [];
          for (let i = start; i < end; i++) {
            const top = Math.floor(i / grid.columns) * grid.stride;
            const left = (i % grid.columns) * grid.stride;
            const occluded = input.slice();
            for (let y = top; y < top + grid.size; y++) {
              const row = (y * width + left) * 3;
              occluded.fill(params.fill, row, row + grid.size * 3);
            }
            batch.push(occluded);
          }
          const logits = await runtime.logits(batch);
          return logits.map((l) => softmax(l)[classIndex]);
        },
        ctx,
      );
      const p = softmax(pass.logits)[classIndex];
      return {
        width: grid.columns,
        height: grid.rows,
        values: Float32Array.from(probabilities, (q) => p - q),
      };
    },
  };
}
