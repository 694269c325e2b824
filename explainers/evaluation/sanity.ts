/**
 * The model-randomization sanity check (Adebayo et al. 2018): a map that
 * explains the model must change when the model's top layers are replaced
 * by noise. Scored as the Spearman rank correlation between the map on the
 * trained model and on the randomized one (lower is better).
 *
 * @module
 */
import type { RgbImage } from "../../lib/mod.ts";
import type { ModelRuntime } from "../../models/mod.ts";
import { analyzeImage, type MethodResult } from "../analysis.ts";
import type { Registry } from "../registry.ts";
import { spearman } from "../_maths.ts";

/** The two models compared and the methods available. */
export interface SanitySetup {
  trained: ModelRuntime;
  /** The same architecture with its top randomized (`models/randomize.ts`). */
  randomized: ModelRuntime;
  registry: Registry;
}

/** What to explain. */
export interface SanityRequest {
  image: RgbImage | Float32Array;
  method: string;
  /** Layer name or alias; @default the model's default layer */
  layer?: string | null | undefined;
  /** @default the trained model's top-1 class (used for both models) */
  classIndex?: number | null | undefined;
  /** The method's options. */
  params?: unknown | undefined;
  /** Stops the work between steps (throws its reason). */
  signal?: AbortSignal | undefined;
}

/** The verdict and both maps. */
export interface SanityResult {
  /** Spearman ρ between the two scaled maps (see {@linkcode spearman}); lower is better. */
  spearman: number;
  classIndex: number;
  trained: MethodResult;
  randomized: MethodResult;
}

/**
 * Explains the image with `method` on both models, for the same class and
 * layer, and correlates the two maps' ranks (after the shared ReLU and
 * scaling, so ties at 0 share a rank).
 *
 * @example
 * ```ts ignore
 * // `trained`: loadModel(); `randomized`: randomizedRuntime(resnet50Artifacts)
 * const { spearman } = await sanityCheck(
 *   { trained, randomized, registry: createRegistry() },
 *   { image, method: "gradcam", layer: "layer4" },
 * );
 * spearman < 0.5; // the map depends on the trained weights
 * ```
 */
export async function sanityCheck(
  setup: SanitySetup,
  request: SanityRequest,
): Promise<SanityResult> {
  const options = {
    methods: [request.method],
    layer: request.layer,
    params: { [request.method]: request.params },
  };
  const first = await analyzeImage(
    { runtime: setup.trained, registry: setup.registry },
    request.image,
    { ...options, classIndex: request.classIndex },
  );
  const hooks = { signal: request.signal };
  const trained = await first.explain(request.method, hooks);
  request.signal?.throwIfAborted();
  const second = await analyzeImage(
    { runtime: setup.randomized, registry: setup.registry },
    request.image,
    { ...options, classIndex: first.classIndex },
  );
  const randomized = await second.explain(request.method, hooks);
  return {
    spearman: spearman(trained.heatmap.values, randomized.heatmap.values),
    classIndex: first.classIndex,
    trained,
    randomized,
  };
}
