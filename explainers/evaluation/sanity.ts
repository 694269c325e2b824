/**
 * The model-randomization sanity check (Adebayo et al. 2018): a map that
 * explains the model must change when the model's top layers are replaced
 * by noise. Scored as the Spearman rank correlation between the map on the
 * trained model and on the randomized one (lower is better).
 *
 * @module
 */
import type { RgbImage } from "../../lib/image.ts";
import type { ModelRuntime } from "../../models/mod.ts";
import { analyzeImage, type MethodResult } from "../analysis.ts";
import type { Registry } from "../registry.ts";

/**
 * Spearman's rank correlation: the Pearson correlation of the ranks, ties
 * sharing their average rank. Where it is undefined it is taken as: 1 when
 * both inputs are constant (their rankings agree), 0 when only one is.
 *
 * @example
 * ```ts
 * spearman([1, 2, 3], [10, 20, 15]); // 0.5
 * ```
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`Lengths differ: ${a.length} and ${b.length}`);
  }
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length - 1) / 2;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < ra.length; i++) {
    ab += (ra[i] - mean) * (rb[i] - mean);
    aa += (ra[i] - mean) ** 2;
    bb += (rb[i] - mean) ** 2;
  }
  if (aa === 0 || bb === 0) return aa === bb ? 1 : 0;
  return ab / Math.sqrt(aa * bb);
}

/** 0-based ranks, ties averaged. */
function ranks(v: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: v.length }, (_, i) => i)
    .sort((i, j) => v[i] - v[j]);
  const out = new Float64Array(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let t = i; t <= j; t++) out[order[t]] = (i + j) / 2;
    i = j + 1;
  }
  return out;
}

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
  layer?: string | null;
  /** @default the trained model's top-1 class (used for both models) */
  classIndex?: number | null;
  /** The method's options. */
  params?: unknown;
  /** Stops the work between steps (throws its reason). */
  signal?: AbortSignal;
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
 * ```ts
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
    setup.trained,
    setup.registry,
    request.image,
    { ...options, classIndex: request.classIndex },
  );
  const hooks = { signal: request.signal };
  const trained = await first.explain(request.method, hooks);
  request.signal?.throwIfAborted();
  const second = await analyzeImage(
    setup.randomized,
    setup.registry,
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
