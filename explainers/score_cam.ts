/**
 * Score-CAM (Wang et al. 2020): each channel's activation map, upsampled
 * and min-max scaled, masks the input; the class logit of each masked input,
 * softmaxed over the channels, weighs the channels. Gradient-free, one
 * forward pass per channel (batched; one for all the channels that are zero
 * everywhere); `topChannels` keeps only the strongest channels (Faster
 * Score-CAM).
 *
 * Masking happens in the model's preprocessed input space, as
 * pytorch-grad-cam multiplies the normalised input tensor: a mask of 0 gives
 * the preprocessed value 0, i.e. the ImageNet mean colour for ResNet-50's
 * `caffe` preprocessing (grey for `tf`).
 *
 * @module
 */
import { upsampleBilinear } from "../lib/mod.ts";
import type { FeatureMap } from "../models/mod.ts";
import { batchesOf } from "./_batch.ts";
import { softmax } from "./_maths.ts";
import { numberOptions, type ParsedOptions } from "./_options.ts";
import {
  camExplainer,
  channelOf,
  scoreChannels,
  strongestChannels,
} from "./cam.ts";
import type { Explainer } from "./types.ts";

const OPTIONS = {
  /** Channels with the highest mean activation to use; 0 for all. */
  topChannels: { integer: true, min: 0, max: 100_000, default: 64 },
  /** Masked inputs per forward pass. */
  batchSize: { integer: true, min: 1, max: 256, default: 16 },
};

/** Options of `scorecam`: `topChannels` (@default 64; 0 = all), `batchSize` (@default 16). */
export type ScoreCamParams = ParsedOptions<typeof OPTIONS>;

/**
 * How many channels `topChannels` selects at a layer of shape
 * `[height, width, channels]` (0: all).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(channelCount({ topChannels: 0 }, [7, 7, 2048]), 2048);
 * assert.equal(channelCount({ topChannels: 64 }, [7, 7, 2048]), 64);
 * ```
 */
export function channelCount(
  params: { topChannels: number },
  layerShape: readonly number[],
): number {
  const channels = layerShape[2] ?? 1;
  return params.topChannels > 0
    ? Math.min(params.topChannels, channels)
    : channels;
}

/**
 * The Score-CAM mask of one channel of `a`: its map upsampled bilinearly
 * (as OpenCV) to `width`×`height`, then scaled as
 * (m − min) / (max − min + 1e-8).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = { height: 1, width: 2, channels: 1, data: new Float32Array([0, 2]) };
 * const mask = scoreCamMask(a, { channel: 0, width: 4, height: 1 });
 * assert.deepEqual(Array.from(mask, (v) => Number(v.toFixed(6))), [0, 0.25, 0.75, 1]);
 * ```
 */
export function scoreCamMask(
  a: FeatureMap,
  target: {
    /** The channel's index in `a`. */
    channel: number;
    /** The mask's size: the model input's. */
    width: number;
    height: number;
  },
): Float32Array {
  const { channel, width, height } = target;
  const mask = upsampleBilinear(
    { values: channelOf(a, channel), width: a.width, height: a.height },
    { width, height },
  );
  let min = Infinity;
  let max = -Infinity;
  for (const v of mask) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min + 1e-8;
  for (let i = 0; i < mask.length; i++) mask[i] = (mask[i] - min) / range;
  return mask;
}

/**
 * An HWC input with every pixel's colour values multiplied by `mask`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   maskInput(new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0.5])),
 *   new Float32Array([1, 2, 3, 2, 2.5, 3]),
 * );
 * ```
 */
export function maskInput(
  input: Float32Array,
  mask: Float32Array,
): Float32Array {
  const out = new Float32Array(input.length);
  for (let p = 0; p < mask.length; p++) {
    out[3 * p] = input[3 * p] * mask[p];
    out[3 * p + 1] = input[3 * p + 1] * mask[p];
    out[3 * p + 2] = input[3 * p + 2] * mask[p];
  }
  return out;
}

/**
 * Makes the `scorecam` explainer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = scoreCamExplainer();
 * assert.deepEqual(explainer.parseParams({ topChannels: 16 }), { topChannels: 16, batchSize: 16 });
 * ```
 */
export function scoreCamExplainer(): Explainer<ScoreCamParams> {
  return camExplainer<ScoreCamParams>({
    name: "scorecam",
    description:
      "Score-CAM: activations weighted by the softmaxed class logit of the input masked by each channel (one forward pass per channel)",
    needsGradients: false,
    slow: true,
    parseParams: numberOptions("scorecam", OPTIONS),
    cost: (params, { layerShape }) => channelCount(params, layerShape),
    async weights(a, _g, ctx, params) {
      const channels = strongestChannels(a, params.topChannels);
      const { width, height } = ctx.runtime.inputSize;
      const classIndex = ctx.pass.classIndex;
      const scores = await scoreChannels(
        a,
        channels,
        { batchSize: batchesOf(ctx.runtime, params.batchSize, {}) },
        async (batch) => {
          const inputs = batch.map((k) =>
            maskInput(ctx.input, scoreCamMask(a, { channel: k, width, height }))
          );
          const logits = await ctx.runtime.logits(inputs);
          return logits.map((l) => l[classIndex]);
        },
        ctx,
      );
      const chosen = softmax(scores);
      const weights = new Float32Array(a.channels);
      channels.forEach((k, i) => weights[k] = chosen[i]);
      return weights;
    },
  });
}
