/**
 * The class-activation-map pipeline shared by CAM variants: each variant
 * gives only its channel weights, as in pytorch-grad-cam's `get_cam_weights`;
 * the map is Σ_k w_k · A_k at the layer's resolution.
 *
 * @module
 */
import { clientError } from "../lib/errors.ts";
import type { FeatureMap } from "../models/runtime.ts";
import type { Explainer, RawMap } from "./types.ts";

/** How one CAM variant weighs the channels. */
export interface CamSpec {
  name: string;
  description: string;
  needsGradients: boolean;
  /** One weight per channel from the activations (and gradients). */
  weights(activations: FeatureMap, gradients: FeatureMap | null): Float32Array;
}

/**
 * Σ_k w_k · A_k over the channels of an HWC feature map.
 *
 * @example
 * ```ts
 * const map = weightedSum(activations, new Float32Array(activations.channels).fill(1));
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

/** Rejects any options: the basic CAM methods take none. */
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
 * Builds a CAM explainer from its channel-weight function.
 *
 * @example
 * ```ts
 * const uniform = camExplainer({
 *   name: "activation", description: "Sum of channels", needsGradients: false,
 *   weights: (a) => new Float32Array(a.channels).fill(1),
 * });
 * ```
 */
export function camExplainer(spec: CamSpec): Explainer<Record<never, never>> {
  return {
    name: spec.name,
    description: spec.description,
    needsGradients: spec.needsGradients,
    parseParams: noParams(spec.name),
    explain({ pass }) {
      if (!pass.activations) {
        throw new Error(`${spec.name}: the pass has no activations`);
      }
      if (spec.needsGradients && !pass.gradients) {
        throw new Error(`${spec.name}: the pass has no gradients`);
      }
      return weightedSum(
        pass.activations,
        spec.weights(pass.activations, pass.gradients),
      );
    },
  };
}
