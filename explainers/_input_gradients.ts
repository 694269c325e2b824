/**
 * The template of the input-gradient methods (saliency, SmoothGrad,
 * integrated gradients), as `camExplainer` is for the CAMs: a method says
 * at which inputs to take the class logit's gradient and how to fold each
 * gradient into its map; the template batches the backward passes (sized
 * by the runtime), reports progress, pauses and stops when asked.
 *
 * @module
 */
import { batchesOf, inBatches } from "./_batch.ts";
import {
  type ExplainContext,
  type Explainer,
  INPUT_GRADIENT_COST,
  type RawMap,
} from "./types.ts";

/** One method's walk over its inputs, made afresh for each request. */
export interface GradientWalk {
  /** The i-th input (preprocessed, HWC); called once per i, in order. */
  point(i: number): Float32Array;
  /** Folds in the gradient taken at point i. */
  add(gradient: Float32Array, i: number): void;
  /** The map (at the model input's resolution) once every gradient is in. */
  finish(): Omit<RawMap, "width" | "height">;
}

/** What an input-gradient method says about itself. */
export interface InputGradientSpec<P> {
  name: string;
  description: string;
  /** @default false */
  slow?: boolean;
  parseParams(raw: unknown): P;
  /** How many gradients the method takes. */
  points(params: P): number;
  /** The batch size the user asked for; the runtime may lower it. @default 1 */
  batchSize?(params: P): number;
  /** Model passes besides the backward ones (e.g. a baseline's forward). @default 0 */
  extraCost?(params: P): number;
  /** Starts one request's walk (may run model passes of its own). */
  walk(ctx: ExplainContext, params: P): GradientWalk | Promise<GradientWalk>;
}

/**
 * Makes an explainer from an input-gradient spec: its cost is one
 * `INPUT_GRADIENT_COST` per point plus `extraCost`, its maps are at the
 * model input's resolution, and it needs no layer gradients.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxAbsOverColours } from "./_maths.ts";
 * import { INPUT_GRADIENT_COST } from "./types.ts";
 * // Saliency in five lines: one gradient, its colour maximum.
 * const saliency = inputGradientExplainer({
 *   name: "saliency", description: "|∂y/∂x|", parseParams: () => ({}),
 *   points: () => 1,
 *   walk: ({ input }) => {
 *     let map: Float32Array = new Float32Array(0);
 *     return { point: () => input, add: (g) => (map = maxAbsOverColours(g)), finish: () => ({ values: map }) };
 *   },
 * });
 * assert.equal(saliency.resolution, "input");
 * const shapes = { inputSize: { width: 224, height: 224 }, layerShape: [7, 7, 2048] };
 * assert.equal(saliency.cost?.({}, shapes), INPUT_GRADIENT_COST);
 * ```
 */
export function inputGradientExplainer<P>(
  spec: InputGradientSpec<P>,
): Explainer<P> {
  return {
    name: spec.name,
    description: spec.description,
    needsGradients: false,
    ...(spec.slow ? { slow: true } : {}),
    resolution: "input",
    parseParams: (raw) => spec.parseParams(raw),
    cost: (params) =>
      (spec.extraCost?.(params) ?? 0) +
      spec.points(params) * INPUT_GRADIENT_COST,
    async explain(ctx, params) {
      const { runtime, pass } = ctx;
      const walk = await spec.walk(ctx, params);
      const hint = spec.batchSize?.(params) ?? 1;
      const batchSize = batchesOf(runtime, hint, { gradients: true });
      const count = spec.points(params);
      await inBatches({ count, batchSize }, async (start, end) => {
        const points = [];
        for (let i = start; i < end; i++) points.push(walk.point(i));
        const { gradients } = await runtime.inputGradients(
          points,
          pass.classIndex,
        );
        gradients.forEach((g, k) => walk.add(g, start + k));
        return points.map(() => null);
      }, ctx);
      const { width, height } = runtime.inputSize;
      return { width, height, ...walk.finish() };
    },
  };
}
