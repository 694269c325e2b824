/**
 * Evaluating explanations, as use cases: faithfulness scores of a map
 * (deletion and insertion curves) and the model-randomization sanity check
 * of a method. Validation here, the maths in `explainers/evaluation/`.
 *
 * @module
 */
import {
  faithfulness,
  type FaithfulnessScores,
  type Registry,
  sanityCheck,
  type SanityResult,
} from "../explainers/mod.ts";
import { clientError, type RgbImage } from "../lib/mod.ts";
import type { ModelRuntime } from "../models/mod.ts";
import { decodeTimed } from "./explain_image.ts";
import type { CheckedExplain } from "./request.ts";

/**
 * The baselines faithfulness accepts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(FAITHFULNESS_BASELINES.includes("mean"));
 * ```
 */
export const FAITHFULNESS_BASELINES: readonly ("blur" | "mean")[] = [
  "blur",
  "mean",
];

/**
 * The most steps faithfulness accepts (2·steps + 1 passes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => checkFaithfulness({ steps: MAX_FAITHFULNESS_STEPS + 1 }),
 *   { code: "BAD_USER_INPUT" },
 * );
 * ```
 */
export const MAX_FAITHFULNESS_STEPS = 100;

/** Faithfulness settings, checked. */
export interface FaithfulnessSettings {
  baseline: "blur" | "mean";
  steps: number;
}

/**
 * Validates faithfulness arguments, filling in the defaults; throws
 * `BAD_USER_INPUT` listing what is valid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkFaithfulness({}), { baseline: "blur", steps: 20 });
 * assert.throws(() => checkFaithfulness({ baseline: "grey" }), {
 *   code: "BAD_USER_INPUT",
 *   message: /valid baselines are "blur", "mean"/,
 * });
 * ```
 */
export function checkFaithfulness(
  args: { baseline?: string | null; steps?: number | null },
): FaithfulnessSettings {
  const baseline = args.baseline ?? "blur";
  const steps = args.steps ?? 20;
  const valid = FAITHFULNESS_BASELINES.find((b) => b === baseline);
  if (valid === undefined) {
    throw clientError(
      "BAD_USER_INPUT",
      `Unknown baseline "${baseline}": valid baselines are ${
        FAITHFULNESS_BASELINES.map((b) => `"${b}"`).join(", ")
      }`,
    );
  }
  if (
    !Number.isInteger(steps) || steps < 1 || steps > MAX_FAITHFULNESS_STEPS
  ) {
    throw clientError(
      "BAD_USER_INPUT",
      `steps must be an integer from 1 to ${MAX_FAITHFULNESS_STEPS}, got ${steps}`,
      { limit: MAX_FAITHFULNESS_STEPS },
    );
  }
  return { baseline: valid, steps };
}

/** A map to score, on one image, for one class. */
export interface FaithfulnessRequest extends FaithfulnessSettings {
  image: Uint8Array | RgbImage;
  classIndex: number;
  /** The scaled map, any resolution. */
  map: { width: number; height: number; values: Float32Array };
}

/**
 * Scores a map's faithfulness (2·steps + 1 forwards, batched).
 *
 * @example
 * ```ts ignore
 * // `runtime`: a loaded model (loadModel); `heatmap`: a method's map of the image
 * const scores = await scoreFaithfulness({ runtime, maxPixels }, {
 *   image: bytes, classIndex: 285, map: heatmap, baseline: "blur", steps: 20,
 * });
 * ```
 */
export async function scoreFaithfulness(
  deps: { runtime: ModelRuntime; maxPixels: number },
  request: FaithfulnessRequest,
  hooks: {
    signal?: AbortSignal | undefined;
    onProgress?: ((fraction: number) => void) | undefined;
    pause?: (() => Promise<void>) | undefined;
  } = {},
): Promise<FaithfulnessScores> {
  const { runtime } = deps;
  runtime.checkClass(request.classIndex);
  const { image } = await decodeTimed(request.image, deps.maxPixels);
  hooks.signal?.throwIfAborted();
  return await faithfulness(runtime, {
    input: runtime.prepare(image),
    classIndex: request.classIndex,
    map: request.map,
    baseline: request.baseline,
    steps: request.steps,
    ...hooks,
  });
}

/** What the sanity check compares, on one image. */
export interface SanityImageRequest
  extends Pick<CheckedExplain, "layer" | "classIndex"> {
  image: Uint8Array | RgbImage;
  method: string;
  /** The method's parsed options. */
  params: unknown;
}

/**
 * Explains the image with one method on the trained model and on its
 * randomized copy (loaded by `randomized`, on first use) and correlates
 * the maps (Spearman ρ; lower is better). `UNSUPPORTED_MODEL` when the
 * model cannot be randomized.
 *
 * @example
 * ```ts ignore
 * // `runtime`: the trained model (loadModel); a randomized copy is loaded for the check
 * const result = await checkSanity(
 *   { runtime, registry, maxPixels, randomized: () => randomizedRuntime(resnet50Artifacts) },
 *   { image: bytes, method: "gradcam", layer: "activation_48", classIndex: null, params: {} },
 * );
 * ```
 */
export async function checkSanity(
  deps: {
    runtime: ModelRuntime;
    registry: Registry;
    maxPixels: number;
    /** The randomized copy, or null when the model has none. */
    randomized: (() => Promise<ModelRuntime>) | null;
  },
  request: SanityImageRequest,
  hooks: { signal?: AbortSignal | undefined } = {},
): Promise<SanityResult> {
  const { runtime } = deps;
  if (!deps.randomized) {
    throw clientError(
      "UNSUPPORTED_MODEL",
      `sanityCheck is not available for the model "${runtime.name}": the server has no randomizable copy of its weights`,
    );
  }
  const { image } = await decodeTimed(request.image, deps.maxPixels);
  hooks.signal?.throwIfAborted();
  const randomized = await deps.randomized();
  const [a, b] = [randomized.inputSize, runtime.inputSize];
  if (a.width !== b.width || a.height !== b.height) {
    throw clientError(
      "UNSUPPORTED_MODEL",
      `sanityCheck is not available for the model "${runtime.name}": its weights describe a ${a.width}×${a.height} input, the model takes ${b.width}×${b.height}`,
    );
  }
  hooks.signal?.throwIfAborted();
  return await sanityCheck(
    { trained: runtime, randomized, registry: deps.registry },
    {
      image,
      method: request.method,
      layer: request.layer,
      classIndex: request.classIndex,
      params: request.params,
      signal: hooks.signal,
    },
  );
}
