/**
 * One image, one model pass, many explanations: the pass is run once with
 * everything any requested method needs, and each method's map is computed
 * from it on demand, once.
 *
 * @module
 */
import { type Heatmap, scaleMap } from "../lib/heatmap.ts";
import type { RgbImage } from "../lib/image.ts";
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
    hooks?: { onProgress?: (fraction: number) => void; signal?: AbortSignal },
  ): Promise<MethodResult>;
}

/** Options of {@linkcode analyzeImage}. */
export interface AnalysisOptions {
  methods: readonly string[];
  /** Layer name or alias; @default the model's default layer */
  layer?: string | null;
  /** @default the top-1 class */
  classIndex?: number | null;
  /** Per-method options, keyed by method name. */
  params?: Record<string, unknown>;
}

/**
 * The top `n` predictions from a probability vector.
 *
 * @example
 * ```ts
 * topClasses(new Float32Array([0.1, 0.7, 0.2]), ["a", "b", "c"], 2);
 * // [{ classIndex: 1, label: "b", probability: 0.7 }, { classIndex: 2, ... }]
 * ```
 */
export function topClasses(
  probabilities: Float32Array,
  labels: readonly string[],
  n: number,
): Prediction[] {
  return [...probabilities.keys()]
    .sort((a, b) => probabilities[b] - probabilities[a])
    .slice(0, Math.max(0, n))
    .map((i) => ({
      classIndex: i,
      label: labels[i],
      probability: probabilities[i],
    }));
}

/**
 * Validates the request (methods, options, layer, class) before any work,
 * then runs the one model pass all methods share.
 *
 * @example
 * ```ts
 * const analysis = await analyzeImage(runtime, registry, image, {
 *   methods: ["activation", "gradcam"], layer: "layer4",
 * });
 * const { heatmap } = await analysis.explain("gradcam");
 * ```
 */
export async function analyzeImage(
  runtime: ModelRuntime,
  registry: Registry,
  image: RgbImage | Float32Array,
  options: AnalysisOptions,
): Promise<ImageAnalysis> {
  const explainers = new Map<string, { e: Explainer; params: unknown }>();
  for (const method of options.methods) {
    const e = registry.get(method);
    explainers.set(method, {
      e,
      params: e.parseParams(options.params?.[method]),
    });
  }
  const layer = runtime.catalog.resolve(options.layer);
  const classIndex = options.classIndex ?? undefined;
  if (classIndex !== undefined) runtime.checkClass(classIndex);
  const input = image instanceof Float32Array ? image : runtime.prepare(image);
  const start = performance.now();
  const pass = await runtime.run(input, {
    layer: layer.name,
    gradients: [...explainers.values()].some(({ e }) => e.needsGradients),
    classIndex,
  });
  const forwardMs = performance.now() - start;
  const results = new Map<string, Promise<MethodResult>>();
  return {
    layer,
    classIndex: pass.classIndex,
    pass,
    forwardMs,
    top: (n) => topClasses(pass.probabilities, runtime.labels, n),
    explain(method, hooks = {}) {
      let result = results.get(method);
      if (!result) {
        const entry = explainers.get(method);
        if (!entry) {
          throw new Error(`Method "${method}" was not part of this analysis`);
        }
        result = (async () => {
          const t = performance.now();
          const raw = await entry.e.explain(
            { runtime, pass, input, ...hooks },
            entry.params,
          );
          return {
            method,
            heatmap: scaleMap(raw.values, raw.width, raw.height),
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
