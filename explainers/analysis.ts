/**
 * One image, one model pass, many explanations: the pass is run once with
 * everything any requested method needs, and each method's map is computed
 * from it on demand, once.
 *
 * @module
 */
import { type Heatmap, type RgbImage, scaleMap } from "../lib/mod.ts";
import {
  type LayerInfo,
  type ModelPass,
  type ModelRuntime,
} from "../models/mod.ts";
import type { Registry } from "./registry.ts";
import type { Explainer } from "./types.ts";

/** A class and how likely the model finds it. */
export interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

/** One method's result. */
export interface MethodResult {
  method: string;
  heatmap: Heatmap;
  /** Milliseconds spent in the explainer and the scaling. */
  explainMs: number;
  /** The method's diagnostics, if any (see `RawMap.details`). */
  details?: Record<string, number>;
}

/** The shared state of explanations of one image. */
export interface ImageAnalysis {
  readonly layer: LayerInfo;
  readonly classIndex: number;
  readonly pass: ModelPass;
  /** Milliseconds of the model pass. */
  readonly forwardMs: number;
  /** The top `n` classes, most likely first. */
  top(n: number): Prediction[];
  /**
   * The map of `method` (validated at analysis time); computed once. A
   * failed or aborted computation is forgotten, so a later call retries.
   */
  explain(
    method: string,
    hooks?: {
      onProgress?: ((fraction: number) => void) | undefined;
      signal?: AbortSignal | undefined;
      pause?: (() => Promise<void>) | undefined;
    },
  ): Promise<MethodResult>;
}

/** What an analysis runs on: the model and the explainers. */
export interface AnalysisDeps {
  runtime: ModelRuntime;
  registry: Registry;
}

/** Options of {@linkcode analyzeImage}. */
export interface AnalysisOptions {
  methods: readonly string[];
  /** Layer name or alias; @default the model's default layer */
  layer?: string | null | undefined;
  /** @default the top-1 class */
  classIndex?: number | null | undefined;
  /** Per-method options, keyed by method name. */
  params?: Record<string, unknown> | undefined;
}

/**
 * The `top` most likely classes of a probability vector, named by
 * `labels`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const probabilities = new Float32Array([0.1, 0.7, 0.2]);
 * const top = topClasses(probabilities, ["a", "b", "c"], { top: 2 });
 * assert.deepEqual(top.map((p) => p.label), ["b", "c"]);
 * assert.equal(top[0].classIndex, 1);
 * assert.equal(top[0].probability, Math.fround(0.7));
 * ```
 */
export function topClasses(
  probabilities: Float32Array,
  labels: readonly string[],
  options: {
    /** How many classes, most likely first. */
    top: number;
  },
): Prediction[] {
  return [...probabilities.keys()]
    .sort((a, b) => probabilities[b] - probabilities[a])
    .slice(0, Math.max(0, options.top))
    .map((i) => ({
      classIndex: i,
      label: labels[i],
      probability: probabilities[i],
    }));
}

/**
 * A checked analysis: every method's options parsed, the layer and the class
 * resolved. Plain data (it may cross a process boundary): explainers are
 * named, not embedded.
 */
export interface AnalysisPlan {
  /** Methods in order, without duplicates. */
  methods: readonly string[];
  /** Each method's parsed options (`Explainer.parseParams`), by name. */
  params: Readonly<Record<string, unknown>>;
  /** The layer's own name (aliases resolved). */
  layer: string;
  /** null: each image's top-1 class. */
  classIndex: number | null;
}

/**
 * Validates methods, options, layer and class once, before any work;
 * throws the client error of the first problem (`UNKNOWN_METHOD`,
 * `BAD_USER_INPUT`, `UNKNOWN_LAYER`, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkClassIndex, layerCatalog } from "../models/mod.ts";
 * import { createRegistry } from "./registry.ts";
 * // What planning needs of a model: its layers and a class check.
 * const model = {
 *   catalog: layerCatalog([{
 *     name: "activation_48", kind: "Activation", shape: [7, 7, 2048],
 *     aliases: ["conv5_block3_out", "layer4"], spatial: true,
 *   }], "activation_48"),
 *   checkClass: (i: number) => checkClassIndex(["tench", "goldfish"], i),
 * };
 * const plan = planAnalysis(model, createRegistry(), { methods: ["gradcam"], layer: "layer4" });
 * assert.equal(plan.layer, "activation_48");
 * assert.throws(
 *   () => planAnalysis(model, createRegistry(), { methods: ["gradcam"], classIndex: 7 }),
 *   { code: "BAD_USER_INPUT" },
 * );
 * ```
 */
export function planAnalysis(
  model: Pick<ModelRuntime, "catalog" | "checkClass">,
  registry: Registry,
  options: AnalysisOptions,
): AnalysisPlan {
  const methods = [...new Set(options.methods)];
  const params: Record<string, unknown> = {};
  for (const method of methods) {
    params[method] = registry.get(method).parseParams(options.params?.[method]);
  }
  const layer = model.catalog.resolve(options.layer).name;
  const classIndex = options.classIndex ?? null;
  if (classIndex !== null) model.checkClass(classIndex);
  return { methods, params, layer, classIndex };
}

/**
 * Runs the one model pass a checked plan's methods share (with gradients
 * if any method needs them); maps are computed on demand, once.
 *
 * @example
 * ```ts ignore
 * // `runtime`: a loaded model (loadModel); `plan`: planAnalysis(runtime, registry, …)
 * const analysis = await runAnalysis({ runtime, registry }, image, plan);
 * const { heatmap } = await analysis.explain("gradcam");
 * ```
 */
export async function runAnalysis(
  deps: AnalysisDeps,
  image: RgbImage | Float32Array,
  plan: AnalysisPlan,
): Promise<ImageAnalysis> {
  const { runtime, registry } = deps;
  const explainers = new Map<string, Explainer>(
    plan.methods.map((m) => [m, registry.get(m)]),
  );
  const layer = runtime.catalog.resolve(plan.layer);
  const input = image instanceof Float32Array ? image : runtime.prepare(image);
  const start = performance.now();
  const pass = await runtime.run(input, {
    layer: layer.name,
    gradients: [...explainers.values()].some((e) => e.needsGradients),
    classIndex: plan.classIndex ?? undefined,
  });
  const forwardMs = performance.now() - start;
  const results = new Map<string, Promise<MethodResult>>();
  return {
    layer,
    classIndex: pass.classIndex,
    pass,
    forwardMs,
    top: (n) => topClasses(pass.probabilities, runtime.labels, { top: n }),
    explain(method, hooks = {}) {
      let result = results.get(method);
      if (!result) {
        const explainer = explainers.get(method);
        if (!explainer) {
          throw new Error(`Method "${method}" was not part of this analysis`);
        }
        result = (async () => {
          const t = performance.now();
          const raw = await explainer.explain(
            { runtime, pass, input, ...hooks },
            plan.params[method],
          );
          return {
            method,
            heatmap: scaleMap(raw),
            explainMs: performance.now() - t,
            ...(raw.details ? { details: raw.details } : {}),
          };
        })();
        results.set(method, result);
        const pending = result;
        pending.catch(() => {
          if (results.get(method) === pending) results.delete(method);
        });
      }
      return result;
    },
  };
}

/**
 * {@linkcode planAnalysis} then {@linkcode runAnalysis}: validates the
 * request before any work, then runs the one model pass all methods share.
 *
 * @example
 * ```ts ignore
 * // `runtime`: a loaded model (loadModel); `registry`: createRegistry()
 * const analysis = await analyzeImage({ runtime, registry }, image, {
 *   methods: ["activation", "gradcam"], layer: "layer4",
 * });
 * const { heatmap } = await analysis.explain("gradcam");
 * ```
 */
export function analyzeImage(
  deps: AnalysisDeps,
  image: RgbImage | Float32Array,
  options: AnalysisOptions,
): Promise<ImageAnalysis> {
  try {
    const plan = planAnalysis(deps.runtime, deps.registry, options);
    return runAnalysis(deps, image, plan);
  } catch (error) {
    return Promise.reject(error);
  }
}
