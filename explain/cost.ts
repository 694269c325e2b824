/**
 * What a request will cost before it runs, in model passes (a whole
 * forward pass counts 1, a forward with a backward pass 3): the shared pass
 * plus each method's extra passes (`Explainer.cost`). The server refuses a
 * request over its limit before any work, and queues cheap and expensive
 * requests in separate lanes.
 *
 * @module
 */
import { INPUT_GRADIENT_COST, type Registry } from "../explainers/mod.ts";
import { clientError } from "../lib/mod.ts";
import type { CheckedExplain, ModelView } from "./request.ts";

/**
 * The estimated passes of a checked explanation request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { layerCatalog } from "../models/mod.ts";
 * // The facts the estimate needs: the input size and the layer's shape.
 * const model = {
 *   inputSize: { width: 224, height: 224 },
 *   catalog: layerCatalog([{
 *     name: "activation_48", kind: "Activation", shape: [7, 7, 2048],
 *     aliases: ["layer4"], spatial: true,
 *   }], "activation_48"),
 * };
 * const registry = createRegistry();
 * const params = { occlusion: registry.get("occlusion").parseParams({ stride: 8 }) };
 * const cost = explainCost({ model, registry }, {
 *   methods: ["occlusion"], params, layer: "activation_48",
 * });
 * assert.equal(cost, 1 + 625); // the shared pass, then 25 × 25 occluded copies
 * ```
 */
export function explainCost(
  deps: {
    /** The model's input size and layers. */
    model: Pick<ModelView, "inputSize" | "catalog">;
    /** The explainers, whose `cost` gives each method's extra passes. */
    registry: Registry;
  },
  request: Pick<CheckedExplain, "methods" | "params" | "layer">,
): number {
  const { model, registry } = deps;
  const layerShape = model.catalog.resolve(request.layer).shape;
  let gradients = false;
  let extra = 0;
  for (const method of request.methods) {
    const explainer = registry.get(method);
    gradients ||= explainer.needsGradients;
    extra += explainer.cost?.(request.params[method], {
      inputSize: model.inputSize,
      layerShape,
    }) ?? 0;
  }
  return (gradients ? INPUT_GRADIENT_COST : 1) + extra;
}

/**
 * The passes faithfulness scoring runs: 2·steps + 1 forwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(faithfulnessCost(20), 41);
 * ```
 */
export function faithfulnessCost(steps: number): number {
  return 2 * steps + 1;
}

/**
 * Refuses a request (or a job) whose estimate is over `maxPasses` with a
 * `BAD_USER_INPUT` that says both numbers and what to do instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(checkCost(2_000, 2_500), 2_000);
 * assert.throws(() => checkCost(50_177, 2_500), {
 *   code: "BAD_USER_INPUT",
 *   message: /^This request would run about 50177 model passes; the limit is 2500: .*, or run it as a job/,
 * });
 * assert.throws(() => checkCost(50_177, 10_000, { job: true }), {
 *   message: /^This job would run about 50177 model passes; /,
 * });
 * ```
 */
export function checkCost(
  passes: number,
  maxPasses: number,
  options: {
    /** A job's check: no advice to run it as a job. @default false */
    job?: boolean;
  } = {},
): number {
  if (passes > maxPasses) {
    const advice =
      "ask for fewer (a larger stride, fewer steps, samples or channels)";
    throw clientError(
      "BAD_USER_INPUT",
      options.job
        ? `This job would run about ${passes} model passes; the limit is ${maxPasses}: ${advice}`
        : `This request would run about ${passes} model passes; the limit is ${maxPasses}: ${advice}, or run it as a job (startExplanation)`,
      { estimate: passes, limit: maxPasses },
    );
  }
  return passes;
}
