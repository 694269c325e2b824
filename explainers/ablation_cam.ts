/**
 * Ablation-CAM (Desai & Ramaswamy 2020): a channel's weight is the relative
 * drop of the class logit when that channel is zeroed at the layer,
 * w_k = (y − y_k) / y. Gradient-free; the network is continued from the
 * modified activations (batched; one pass for all the channels that are
 * zero everywhere, which zeroing leaves as they were), `topChannels` ablates
 * only the strongest channels (the others weigh 0).
 *
 * @module
 */
import { batchesOf } from "./_batch.ts";
import { numberOptions, type ParsedOptions } from "./_options.ts";
import { camExplainer, scoreChannels, strongestChannels } from "./cam.ts";
import { channelCount } from "./score_cam.ts";
import type { Explainer } from "./types.ts";

const OPTIONS = {
  topChannels: { integer: true, min: 0, max: 100_000, default: 64 },
  batchSize: { integer: true, min: 1, max: 256, default: 16 },
};

/** Options of `ablationcam`: `topChannels` (@default 64; 0 = all), `batchSize` (@default 16). */
export type AblationCamParams = ParsedOptions<typeof OPTIONS>;

/**
 * Makes the `ablationcam` explainer. y is the class logit of the shared
 * pass; y_k the logit with channel k set to 0 everywhere on the layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = ablationCamExplainer();
 * assert.deepEqual(explainer.parseParams({}), { topChannels: 64, batchSize: 16 });
 * ```
 */
export function ablationCamExplainer(): Explainer<AblationCamParams> {
  return camExplainer<AblationCamParams>({
    name: "ablationcam",
    description:
      "Ablation-CAM: activations weighted by the relative drop of the class logit when each channel is zeroed",
    needsGradients: false,
    slow: true,
    parseParams: numberOptions("ablationcam", OPTIONS),
    // Continued passes run only above the layer; counted as whole ones.
    cost: (params, { layerShape }) => channelCount(params, layerShape),
    async weights(a, _g, ctx, params) {
      const layer = ctx.pass.layer;
      if (!layer) throw new Error("ablationcam: the pass has no layer");
      const channels = strongestChannels(a, params.topChannels);
      const classIndex = ctx.pass.classIndex;
      const ablated = await scoreChannels(
        a,
        channels,
        {
          batchSize: batchesOf(ctx.runtime, params.batchSize, {
            layer: layer.name,
          }),
        },
        async (ks) => {
          const batch = ks.map((k) => {
            const copy = a.data.slice();
            for (let i = k; i < copy.length; i += a.channels) copy[i] = 0;
            return copy;
          });
          const logits = await ctx.runtime.logitsFromActivations(
            ctx.input,
            layer.name,
            batch,
          );
          return logits.map((l) => l[classIndex]);
        },
        ctx,
      );
      const y = ctx.pass.logits[classIndex];
      const weights = new Float32Array(a.channels);
      channels.forEach((k, i) => weights[k] = (y - ablated[i]) / y);
      return weights;
    },
  });
}
