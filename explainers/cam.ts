/**
 * The class-activation-map pipeline shared by CAM variants. Each variant gives
 * one small function, as in pytorch-grad-cam's `get_cam_weights`:
 * - `weights`: one weight per channel, map = Σ_k w_k · A_k;
 * - `elementWeights`: one weight per activation, map = Σ_k W_k ⊙ A_k
 *   (HiResCAM, LayerCAM);
 * - `map`: the whole map, for variants that are not a weighted sum of the
 *   channels (EigenCAM).
 *
 * Every map is at the layer's resolution and comes back before ReLU and
 * scaling, which the shared pipeline (`lib/heatmap.ts`) applies.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";
import { type BatchHooks, inBatches } from "./_batch.ts";
import type { FeatureMap } from "../models/mod.ts";
import type {
  CostContext,
  ExplainContext,
  Explainer,
  RawMap,
} from "./types.ts";

/** What every CAM variant declares. */
interface CamBase<P> {
  name: string;
  description: string;
  needsGradients: boolean;
  /** See `Explainer.slow`; @default false */
  slow?: boolean;
  /** Validates the variant's options; @default no options accepted */
  parseParams?: (raw: unknown) => P;
  /** See `Explainer.cost`; @default 0 */
  cost?: (params: P, context: CostContext) => number;
}

/** A CAM variant that weighs whole channels. */
export interface CamSpec<P = Record<never, never>> extends CamBase<P> {
  /** One weight per channel from the activations (and gradients). */
  weights(
    activations: FeatureMap,
    gradients: FeatureMap | null,
    ctx: ExplainContext,
    params: P,
  ): Float32Array | Promise<Float32Array>;
}

/** A CAM variant that weighs every activation on its own. */
export interface ElementCamSpec<P = Record<never, never>> extends CamBase<P> {
  /** One weight per activation, HWC like the activations. */
  elementWeights(
    activations: FeatureMap,
    gradients: FeatureMap | null,
  ): Float32Array;
}

/** A CAM variant that computes its layer-resolution map itself. */
export interface MapCamSpec<P = Record<never, never>> extends CamBase<P> {
  map(activations: FeatureMap, gradients: FeatureMap | null): RawMap;
}

/** Any CAM variant. */
export type AnyCamSpec<P = Record<never, never>> =
  | CamSpec<P>
  | ElementCamSpec<P>
  | MapCamSpec<P>;

/**
 * Σ_k w_k · A_k over the channels of an HWC feature map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const activations = { height: 1, width: 2, channels: 2, data: new Float32Array([1, 2, 3, 4]) };
 * const map = weightedSum(activations, new Float32Array([1, -1]));
 * assert.deepEqual(map.values, new Float32Array([-1, -1]));
 * ```
 */
export function weightedSum(a: FeatureMap, weights: Float32Array): RawMap {
  const { height, width, channels, data } = a;
  const values = new Float32Array(height * width);
  for (let p = 0; p < height * width; p++) {
    let sum = 0;
    const base = p * channels;
    for (let k = 0; k < channels; k++) sum += weights[k] * data[base + k];
    values[p] = sum;
  }
  return { width, height, values };
}

/**
 * Σ_k W_k ⊙ A_k: the channel sum of an elementwise product of two HWC maps
 * of the same shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = { height: 1, width: 1, channels: 2, data: new Float32Array([1, 2]) };
 * assert.deepEqual(elementwiseSum(a, new Float32Array([3, 4])).values, new Float32Array([11]));
 * ```
 */
export function elementwiseSum(a: FeatureMap, weights: Float32Array): RawMap {
  const { height, width, channels, data } = a;
  if (weights.length !== data.length) {
    throw new RangeError(
      `Element weights have ${weights.length} values, expected ${data.length}`,
    );
  }
  const values = new Float32Array(height * width);
  for (let p = 0; p < height * width; p++) {
    let sum = 0;
    const base = p * channels;
    for (let k = 0; k < channels; k++) {
      sum += weights[base + k] * data[base + k];
    }
    values[p] = sum;
  }
  return { width, height, values };
}

/**
 * One channel of an HWC map, as a row-major H×W array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = { height: 1, width: 2, channels: 2, data: new Float32Array([1, 2, 3, 4]) };
 * assert.deepEqual(channelOf(a, 1), new Float32Array([2, 4]));
 * ```
 */
export function channelOf(a: FeatureMap, k: number): Float32Array {
  const out = new Float32Array(a.height * a.width);
  for (let p = 0; p < out.length; p++) out[p] = a.data[p * a.channels + k];
  return out;
}

/**
 * The indices of the `n` channels with the highest mean activation, highest
 * first (ties: lower index first); all channels, in order, when `n` is 0 or
 * at least the channel count (the Faster-Score-CAM selection).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = { height: 1, width: 1, channels: 3, data: new Float32Array([1, 5, 3]) };
 * assert.deepEqual(strongestChannels(a, 2), [1, 2]);
 * ```
 */
export function strongestChannels(a: FeatureMap, n: number): number[] {
  const all = Array.from({ length: a.channels }, (_, k) => k);
  if (n <= 0 || n >= a.channels) return all;
  const sums = new Float64Array(a.channels);
  for (let p = 0; p < a.height * a.width; p++) {
    for (let k = 0; k < a.channels; k++) sums[k] += a.data[p * a.channels + k];
  }
  return all.sort((i, j) => sums[j] - sums[i] || i - j).slice(0, n);
}

/**
 * One score per channel of `channels`, from passes over batches of them
 * (`run` gets a batch's channel indices and answers their scores in order),
 * with one pass for all the channels that are zero at every pixel. Masking
 * the input by such a channel (Score-CAM) gives the same input whichever it
 * is, and so does zeroing it (Ablation-CAM: nothing changes). After a ReLU
 * many are (251 of ResNet-50's 2048 at `layer4` on chelsea.png, 332 on
 * coffee.png), and all are scored when `topChannels` is 0. Progress counts
 * the passes run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Channels 1 and 2 are zero everywhere: one pass scores both.
 * const a = { height: 1, width: 2, channels: 3, data: new Float32Array([4, 0, 0, 5, 0, 0]) };
 * const passes: number[][] = [];
 * const scores = await scoreChannels(a, [0, 1, 2], { batchSize: 8 }, async (batch) => {
 *   passes.push(batch);
 *   return batch.map((k) => 10 * k + 1);
 * });
 * assert.deepEqual(passes, [[0, 1]]);
 * assert.deepEqual(scores, [1, 11, 11]);
 * ```
 */
export async function scoreChannels(
  a: FeatureMap,
  channels: readonly number[],
  batches: { batchSize: number | (() => number) },
  run: (batch: number[]) => Promise<number[]>,
  hooks: BatchHooks = {},
): Promise<number[]> {
  const zeros = new Set(channels.filter((k) => isZeroChannel(a, k)));
  const [firstZero] = zeros;
  const scored = zeros.size > 1
    ? channels.filter((k) => !zeros.has(k) || k === firstZero)
    : [...channels];
  const scores = await inBatches(
    { count: scored.length, batchSize: batches.batchSize },
    (start, end) => run(scored.slice(start, end)),
    hooks,
  );
  const scoreOf = new Map(scored.map((k, i) => [k, scores[i]]));
  return channels.map((k) => scoreOf.get(zeros.has(k) ? firstZero! : k)!);
}

/** Whether channel `k` of `a` is zero at every pixel. */
function isZeroChannel(a: FeatureMap, k: number): boolean {
  for (let p = k; p < a.data.length; p += a.channels) {
    if (a.data[p] !== 0) return false;
  }
  return true;
}

/**
 * Rejects any options: the basic CAM methods take none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(noParams("gradcam")(undefined), {});
 * assert.throws(() => noParams("gradcam")({ foo: 1 }), { code: "BAD_USER_INPUT" });
 * ```
 */
export function noParams(name: string): (raw: unknown) => Record<never, never> {
  return (raw) => {
    if (
      raw !== undefined && raw !== null &&
      (typeof raw !== "object" || Object.keys(raw).length > 0)
    ) {
      throw clientError(
        "BAD_USER_INPUT",
        `Method "${name}" takes no options, got ${JSON.stringify(raw)}`,
      );
    }
    return {};
  };
}

/**
 * Builds a CAM explainer from its channel weights, element weights or map
 * function. All variants share the checks and the output format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const uniform = camExplainer({
 *   name: "activation", description: "Sum of channels", needsGradients: false,
 *   weights: (a) => new Float32Array(a.channels).fill(1),
 * });
 * assert.equal(uniform.resolution, "layer");
 * assert.deepEqual(uniform.parseParams(undefined), {});
 * ```
 */
export function camExplainer<P = Record<never, never>>(
  spec: AnyCamSpec<P>,
): Explainer<P> {
  const parseParams = spec.parseParams ??
    (noParams(spec.name) as (raw: unknown) => P);
  return {
    name: spec.name,
    description: spec.description,
    needsGradients: spec.needsGradients,
    slow: spec.slow ?? false,
    resolution: "layer",
    parseParams,
    ...(spec.cost ? { cost: spec.cost } : {}),
    explain(ctx, params) {
      const { activations, gradients } = ctx.pass;
      if (!activations) {
        throw new Error(`${spec.name}: the pass has no activations`);
      }
      if (spec.needsGradients && !gradients) {
        throw new Error(`${spec.name}: the pass has no gradients`);
      }
      if ("weights" in spec) {
        const w = spec.weights(activations, gradients, ctx, params);
        return w instanceof Promise
          ? w.then((resolved) => weightedSum(activations, resolved))
          : weightedSum(activations, w);
      }
      if ("elementWeights" in spec) {
        return elementwiseSum(
          activations,
          spec.elementWeights(activations, gradients),
        );
      }
      return spec.map(activations, gradients);
    },
  };
}
