/**
 * The small numerical helpers several explainers share: softmax, channel
 * means, the colour-channel maximum of input gradients, Spearman's rank
 * correlation and the Euclidean norm (the eigen solver is `_eigen.ts`).
 *
 * @module
 */
import type { FeatureMap } from "../models/mod.ts";

/**
 * Softmax of a score vector, in float64 with the maximum subtracted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const p = softmax([0, Math.log(3)]);
 * assert.deepEqual(Array.from(p, (x) => Number(x.toFixed(12))), [0.25, 0.75]);
 * ```
 */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]);
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.exp(scores[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * Spatial mean of each channel of an HWC map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const map = { height: 1, width: 2, channels: 1, data: new Float32Array([1, 3]) };
 * assert.deepEqual(channelMeans(map), new Float32Array([2]));
 * ```
 */
export function channelMeans(map: FeatureMap): Float32Array {
  const { height, width, channels, data } = map;
  const means = new Float32Array(channels);
  const sums = new Float64Array(channels);
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < channels; k++) sums[k] += data[p * channels + k];
  }
  for (let k = 0; k < channels; k++) means[k] = sums[k] / (height * width);
  return means;
}

/**
 * max_c |v_c| per pixel of an HWC array with 3 colour values per pixel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   maxAbsOverColours(new Float32Array([1, -4, 2, 0, 0.5, -0.25])),
 *   new Float32Array([4, 0.5]),
 * );
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
 * Spearman's rank correlation: the Pearson correlation of the ranks, ties
 * sharing their average rank. Where it is undefined it is taken as: 1 when
 * both inputs are constant (their rankings agree), 0 when only one is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(spearman([1, 2, 3], [10, 20, 15]), 0.5);
 * ```
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`Lengths differ: ${a.length} and ${b.length}`);
  }
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length - 1) / 2;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < ra.length; i++) {
    ab += (ra[i] - mean) * (rb[i] - mean);
    aa += (ra[i] - mean) ** 2;
    bb += (rb[i] - mean) ** 2;
  }
  if (aa === 0 || bb === 0) return aa === bb ? 1 : 0;
  return ab / Math.sqrt(aa * bb);
}

/** 0-based ranks, ties averaged. */
function ranks(v: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: v.length }, (_, i) => i)
    .sort((i, j) => v[i] - v[j]);
  const out = new Float64Array(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let t = i; t <= j; t++) out[order[t]] = (i + j) / 2;
    i = j + 1;
  }
  return out;
}

/**
 * The Euclidean norm of a vector.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(euclidean(new Float64Array([3, 4])), 5);
 * ```
 */
export function euclidean(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}
