/**
 * The registry of explanation methods: one explicit list, names checked once.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";
import { ablationCamExplainer } from "./ablation_cam.ts";
import { activationExplainer } from "./activation.ts";
import { eigenCamExplainer } from "./eigen_cam.ts";
import { eigenGradCamExplainer } from "./eigen_grad_cam.ts";
import { gradCamExplainer } from "./grad_cam.ts";
import { gradCamPlusPlusExplainer } from "./grad_cam_plus_plus.ts";
import { hiResCamExplainer } from "./hires_cam.ts";
import { integratedGradientsExplainer } from "./integrated_gradients.ts";
import { layerCamExplainer } from "./layer_cam.ts";
import { occlusionExplainer } from "./occlusion.ts";
import { saliencyExplainer } from "./saliency.ts";
import { scoreCamExplainer } from "./score_cam.ts";
import { smoothGradExplainer } from "./smooth_grad.ts";
import { xGradCamExplainer } from "./xgrad_cam.ts";
import type { Explainer } from "./types.ts";

/** Looks explainers up by name. */
export interface Registry {
  readonly names: readonly string[];
  list(): readonly Explainer[];
  /** The explainer for `name`; throws `UNKNOWN_METHOD` listing valid names. */
  get(name: string): Explainer;
}

/**
 * The built-in CAM variants computed from the same activations and
 * gradients: together they cost one forward and one backward pass.
 */
export const GRADIENT_CAMS: readonly string[] = [
  "gradcam",
  "gradcam++",
  "hirescam",
  "xgradcam",
  "layercam",
  "eigengradcam",
];

/**
 * The built-in methods. Adding a method: one file, one line here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const names = builtinExplainers().map((e) => e.name);
 * assert.deepEqual(names.slice(0, 2), ["activation", "gradcam"]);
 * assert.equal(names.length, 14);
 * ```
 */
export function builtinExplainers(): Explainer[] {
  return [
    activationExplainer(),
    gradCamExplainer(),
    gradCamPlusPlusExplainer(),
    hiResCamExplainer(),
    xGradCamExplainer(),
    layerCamExplainer(),
    eigenCamExplainer(),
    eigenGradCamExplainer(),
    scoreCamExplainer(),
    ablationCamExplainer(),
    saliencyExplainer(),
    smoothGradExplainer(),
    integratedGradientsExplainer(),
    occlusionExplainer(),
  ];
}

/**
 * Builds a registry; a duplicate or malformed name throws at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationExplainer } from "./activation.ts";
 * const mine = { ...activationExplainer(), name: "mycam" };
 * const registry = createRegistry([...builtinExplainers(), mine]);
 * assert.equal(registry.get("gradcam").needsGradients, true);
 * assert.throws(() => createRegistry([mine, mine]), /Duplicate explainer name "mycam"/);
 * ```
 */
export function createRegistry(
  explainers: readonly Explainer[] = builtinExplainers(),
): Registry {
  const byName = new Map<string, Explainer>();
  for (const explainer of explainers) {
    if (!/^[a-z][a-z0-9+_-]*$/.test(explainer.name)) {
      throw new Error(
        `Invalid explainer name "${explainer.name}": use lowercase letters, digits, "+", "-" or "_"`,
      );
    }
    if (byName.has(explainer.name)) {
      throw new Error(`Duplicate explainer name "${explainer.name}"`);
    }
    byName.set(explainer.name, explainer);
  }
  const names = [...byName.keys()];
  return {
    names,
    list: () => [...byName.values()],
    get(name) {
      const explainer = byName.get(name);
      if (!explainer) {
        throw clientError(
          "UNKNOWN_METHOD",
          `Unknown method "${name}": valid methods are ${
            names.map((n) => `"${n}"`).join(", ")
          }`,
          { valid: names },
        );
      }
      return explainer;
    },
  };
}
