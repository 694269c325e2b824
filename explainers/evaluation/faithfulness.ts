/**
 * Faithfulness scores of an explanation map: does the model's confidence
 * follow the map? Deletion and insertion curves (Petsiuk et al. 2018,
 * "RISE") and the confidence kept by the top of the map (after the "average
 * drop" of Chattopadhay et al. 2018). Not an explainer: it scores any map.
 *
 * @module
 */
import { type MapGrid, upsampleBilinear } from "../../lib/mod.ts";
import type { ModelRuntime } from "../../models/mod.ts";
import { batchesOf, inBatches } from "../_batch.ts";
import { softmax } from "../_maths.ts";

/** What to score and how. */
export interface FaithfulnessRequest {
  /** The preprocessed model input (HWC at the model's input size). */
  input: Float32Array;
  /** The class whose probability is followed. */
  classIndex: number;
  /** The map, any resolution (upsampled bilinearly to the input size). */
  map: MapGrid;
  /** Steps of the deletion and insertion curves; @default 20 */
  steps?: number;
  /**
   * What removed pixels become: `"blur"`, the input blurred with a Gaussian
   * (σ = 5 px at 224 px, scaled with the input width), or `"mean"`, zeros of
   * the preprocessed space (the ImageNet mean colour for ResNet-50's
   * preprocessing); @default "blur"
   */
  baseline?: "blur" | "mean" | undefined;
  /** The fraction of the map kept for the confidence drop; @default 0.2 */
  keepFraction?: number | undefined;
  /** Images per forward pass; @default 16 */
  batchSize?: number | undefined;
  onProgress?: ((fraction: number) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Awaited between batches (cheaper work may run first). */
  pause?: (() => Promise<void>) | undefined;
}

/** The scores; probabilities are softmax probabilities of the class. */
export interface FaithfulnessScores {
  /** p(x) of the unmodified input. */
  probability: number;
  /** Area under the deletion curve; lower is more faithful. */
  deletionAuc: number;
  /** Area under the insertion curve; higher is more faithful. */
  insertionAuc: number;
  /** p after removing the top s/steps of the map, s = 0 … steps. */
  deletionCurve: number[];
  /** p after adding the top s/steps of the map to the baseline, s = 0 … steps. */
  insertionCurve: number[];
  /** p with only the top `keepFraction` of the map kept, the rest baseline. */
  keepTopProbability: number;
  /** max(0, p − keepTopProbability) / p: the relative confidence drop. */
  keepTopDrop: number;
}

/**
 * A Gaussian blur of an HWC image with 3 values per pixel (`data`, row-major
 * like an `RgbImage`'s): separable, radius ⌈3σ⌉, edges replicated, weights
 * normalised. The input is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const flat = { width: 4, height: 4, data: new Float32Array(4 * 4 * 3).fill(2) };
 * const blurred = gaussianBlur(flat, 1.5);
 * assert.ok(blurred.every((v) => Math.abs(v - 2) < 1e-6)); // a blur keeps constants
 * ```
 */
export function gaussianBlur(
  image: { width: number; height: number; data: Float32Array },
  sigma: number,
): Float32Array {
  const { width, height, data: hwc } = image;
  if (!(sigma > 0)) return hwc.slice();
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) {
    kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
    total += kernel[i + radius];
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= total;
  const clamp = (v: number, max: number) => v < 0 ? 0 : v > max ? max : v;
  const rows = new Float64Array(hwc.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let i = -radius; i <= radius; i++) {
          const sx = clamp(x + i, width - 1);
          sum += kernel[i + radius] * hwc[(y * width + sx) * 3 + c];
        }
        rows[(y * width + x) * 3 + c] = sum;
      }
    }
  }
  const out = new Float32Array(hwc.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let i = -radius; i <= radius; i++) {
          const sy = clamp(y + i, height - 1);
          sum += kernel[i + radius] * rows[(sy * width + x) * 3 + c];
        }
        out[(y * width + x) * 3 + c] = sum;
      }
    }
  }
  return out;
}

/**
 * Pixel indices from the highest map value to the lowest (ties: lower index
 * first), after upsampling the map to `size`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const map = { width: 2, height: 1, values: new Float32Array([0.1, 0.9]) };
 * assert.deepEqual(rankPixels(map, { width: 2, height: 1 }), new Int32Array([1, 0]));
 * ```
 */
export function rankPixels(
  map: MapGrid,
  size: { width: number; height: number },
): Int32Array {
  const { width, height } = size;
  const full = map.width === width && map.height === height
    ? map.values
    : upsampleBilinear(map, { width, height });
  const order = Int32Array.from({ length: width * height }, (_, i) => i);
  return order.sort((i, j) => full[j] - full[i] || i - j);
}

/**
 * Area under a curve sampled at evenly spaced points of [0, 1], by the
 * trapezoid rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(trapezoidAuc([1, 0]), 0.5);
 * ```
 */
export function trapezoidAuc(curve: readonly number[]): number {
  const steps = curve.length - 1;
  if (steps < 1) return curve[0] ?? 0;
  let sum = 0;
  for (let s = 0; s < steps; s++) sum += (curve[s] + curve[s + 1]) / 2;
  return sum / steps;
}

/**
 * Scores a map's faithfulness. With N input pixels ranked by the upsampled
 * map (highest first), n_s = round(s·N/steps) for s = 0 … steps, B the
 * baseline image and p(·) the class's softmax probability:
 *
 * - deletion curve d_s = p(x with its top n_s pixels set to B), from p(x)
 *   to p(B); insertion curve i_s = p(B with its top n_s pixels set to x),
 *   from p(B) to p(x); each AUC = (1/steps) Σ_s (c_s + c_{s+1}) / 2. A
 *   faithful map has a low deletion and a high insertion AUC.
 * - keepTopProbability = p(B with the top round(keepFraction·N) pixels set
 *   to x); keepTopDrop = max(0, p(x) − keepTopProbability) / p(x).
 *
 * Cost: 2·steps + 1 forward passes at most (shared images are run once),
 * batched.
 *
 * @example
 * ```ts ignore
 * // `runtime`: a loaded model (loadModel); `heatmap`: a method's map of the image
 * const scores = await faithfulness(runtime, {
 *   input: runtime.prepare(image), classIndex: 285, map: heatmap,
 * });
 * scores.deletionAuc < scores.insertionAuc; // usually, for a good map
 * ```
 */
export async function faithfulness(
  runtime: ModelRuntime,
  request: FaithfulnessRequest,
): Promise<FaithfulnessScores> {
  const steps = request.steps ?? 20;
  const keepFraction = request.keepFraction ?? 0.2;
  const batchSize = request.batchSize ?? 16;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${steps}`);
  }
  if (!(keepFraction >= 0 && keepFraction <= 1)) {
    throw new RangeError(`keepFraction must be in [0, 1], got ${keepFraction}`);
  }
  runtime.checkClass(request.classIndex);
  const { width, height } = runtime.inputSize;
  const { input } = request;
  const n = width * height;
  const baseline = (request.baseline ?? "blur") === "blur"
    ? gaussianBlur({ width, height, data: input }, 5 * width / 224)
    : new Float32Array(input.length);
  const order = rankPixels(request.map, { width, height });
  const counts = Array.from(
    { length: steps + 1 },
    (_, s) => Math.round(s * n / steps),
  );
  const keepCount = Math.round(keepFraction * n);

  // Each image: the top `count` ranked pixels come from `top`, the rest
  // from `rest`. Equal images are run once.
  const images: { top: Float32Array; rest: Float32Array; count: number }[] = [];
  const indexOf = (top: Float32Array, rest: Float32Array, count: number) => {
    if (count === 0) return indexOf(rest, rest, n);
    if (count === n) {
      const found = images.findIndex((im) => im.top === top && im.count === n);
      if (found >= 0) return found;
    }
    const found = images.findIndex((im) =>
      im.top === top && im.rest === rest && im.count === count
    );
    if (found >= 0) return found;
    images.push({ top, rest, count });
    return images.length - 1;
  };
  const original = indexOf(input, input, n);
  const deletion = counts.map((c) => indexOf(baseline, input, c));
  const insertion = counts.map((c) => indexOf(input, baseline, c));
  const keep = indexOf(input, baseline, keepCount);

  const probabilities = await inBatches(
    { count: images.length, batchSize: batchesOf(runtime, batchSize, {}) },
    async (start, end) => {
      const batch = images.slice(start, end).map(({ top, rest, count }) => {
        if (count === n) return top;
        const image = rest.slice();
        for (let r = 0; r < count; r++) {
          const p = order[r] * 3;
          image[p] = top[p];
          image[p + 1] = top[p + 1];
          image[p + 2] = top[p + 2];
        }
        return image;
      });
      const logits = await runtime.logits(batch);
      return logits.map((l) => softmax(l)[request.classIndex]);
    },
    request,
  );
  const probability = probabilities[original];
  const deletionCurve = deletion.map((i) => probabilities[i]);
  const insertionCurve = insertion.map((i) => probabilities[i]);
  const keepTopProbability = probabilities[keep];
  return {
    probability,
    deletionAuc: trapezoidAuc(deletionCurve),
    insertionAuc: trapezoidAuc(insertionCurve),
    deletionCurve,
    insertionCurve,
    keepTopProbability,
    keepTopDrop: probability > 0
      ? Math.max(0, probability - keepTopProbability) / probability
      : 0,
  };
}
