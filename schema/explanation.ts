/**
 * The pipeline behind `explain` and `explainMany`: validate every argument,
 * read the image, then run one model job through the queue that decodes
 * it, runs the one shared analysis, and computes every map and rendering
 * the query selects (in `@defer` fragments too), in method order. The
 * resolver answers as soon as the analysis is ready; `Explanation` fields
 * wait for their part of the job, so `@defer` and `@stream` still deliver
 * early parts early.
 *
 * @module
 */
import type { GraphQLResolveInfo } from "graphql";
import {
  analyzeImage,
  type ImageAnalysis,
  type MethodResult,
  type Prediction,
} from "../explainers/analysis.ts";
import { colormapLut } from "../lib/colormap.ts";
import { clientError } from "../lib/errors.ts";
import type { RgbImage } from "../lib/image.ts";
import { type RenderedExplanation, renderExplanation } from "../lib/render.ts";
import type { ModelRuntime } from "../models/runtime.ts";
import { resolveClassName } from "./class_name.ts";
import { type LumenContext, requireRuntime } from "./context.ts";
import {
  checkImageInput,
  decodeImageBytes,
  type ImageInputArg,
  readImageBytes,
} from "./image_input.ts";
import { modelJob, refuseEarly } from "./model_job.ts";
import { selectsAnywhere, selectsEagerly } from "./selection.ts";

/** Arguments `explain` and `explainMany` share. */
export interface ExplainArgs {
  image: ImageInputArg;
  layer?: string | null;
  classIndex?: number | null;
  className?: string | null;
  options?: unknown;
  render?: { colormap?: string | null; alpha?: number | null } | null;
}

/** The `Heatmap` GraphQL type. */
export interface HeatmapResult {
  width: number;
  height: number;
  values: number[];
  rawMin: number;
  rawMax: number;
}

/** The `Timings` GraphQL type; lazy fields are functions. */
export interface TimingsResult {
  decode: number;
  forward: number;
  explain: () => Promise<number>;
  render: () => Promise<number>;
}

/** The `Explanation` GraphQL type; expensive fields are lazy functions. */
export interface ExplanationResult {
  method: string;
  layer: string;
  classIndex: number;
  label: string;
  probability: number;
  predictions: () => Prediction[];
  map: () => Promise<HeatmapResult>;
  overlay: () => Promise<string>;
  heatmap: () => Promise<string>;
  timings: () => TimingsResult;
}

/** One analysed image, ready to hand out explanations. */
export interface AnalyzedRequest {
  readonly runtime: ModelRuntime;
  readonly analysis: ImageAnalysis;
  /** Methods in request order, without duplicates. */
  readonly methods: readonly string[];
  /** Builds the `Explanation` of one of `methods`. */
  explanation(method: string): ExplanationResult;
  /**
   * Resolves once the job has done `method`'s part (its map, and its
   * rendering if selected); at once if the query selects neither.
   */
  settled(method: string): Promise<void>;
}

/** Fields that need a method's map. */
const MAP_FIELDS = ["map", "overlay", "heatmap", "timings"];
/** Fields that need a method's rendering. */
const RENDER_FIELDS = ["overlay", "heatmap"];

function checkOptions(
  options: unknown,
  methods: readonly string[],
): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw clientError(
      "BAD_USER_INPUT",
      `options must be an object keyed by method, e.g. {"${methods[0]}": {}}`,
    );
  }
  const params = options as Record<string, unknown>;
  const extra = Object.keys(params).filter((k) => !methods.includes(k));
  if (extra.length > 0) {
    throw clientError(
      "BAD_USER_INPUT",
      `options has keys for methods not requested: ${
        extra.map((k) => `"${k}"`).join(", ")
      } (requested: ${methods.map((m) => `"${m}"`).join(", ")})`,
    );
  }
  return params;
}

function checkRender(
  render: ExplainArgs["render"],
): { colormap: string; alpha: number } {
  const colormap = render?.colormap ?? "jet";
  const alpha = render?.alpha ?? 0.3;
  colormapLut(colormap); // throws UNKNOWN_COLORMAP listing the valid names
  if (!(alpha >= 0 && alpha <= 1)) {
    throw clientError(
      "BAD_USER_INPUT",
      `alpha must be between 0 and 1, got ${alpha}`,
    );
  }
  return { colormap, alpha };
}

function checkClass(runtime: ModelRuntime, args: ExplainArgs): number | null {
  const hasIndex = args.classIndex !== undefined && args.classIndex !== null;
  const hasName = args.className !== undefined && args.className !== null;
  if (hasIndex && hasName) {
    throw clientError(
      "BAD_USER_INPUT",
      "Give classIndex or className, not both",
    );
  }
  if (hasIndex) {
    runtime.checkClass(args.classIndex!);
    return args.classIndex!;
  }
  return hasName ? resolveClassName(runtime.labels, args.className!) : null;
}

/** Promises a job fills in, keyed by method; unhandled rejections muted. */
function pending<T>(
  keys: readonly string[],
): Map<string, PromiseWithResolvers<T>> {
  const map = new Map<string, PromiseWithResolvers<T>>();
  for (const key of keys) {
    const p = Promise.withResolvers<T>();
    p.promise.catch(() => {});
    map.set(key, p);
  }
  return map;
}

/** Lets the server write what is ready before more CPU-bound work. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

interface Prepared {
  image: RgbImage;
  decodeMs: number;
  analysis: ImageAnalysis;
}

/**
 * Validates the request (model ready, image source, methods, options,
 * layer, class, render options) before any work, reads the image, then
 * runs the model job (see the module doc); resolves once the shared
 * analysis is ready.
 *
 * @example
 * ```ts
 * const request = await analyzeRequest(context, args, ["gradcam"], info, "explain");
 * return request.explanation("gradcam");
 * ```
 */
export async function analyzeRequest(
  context: LumenContext,
  args: ExplainArgs,
  methods: readonly string[],
  info: GraphQLResolveInfo,
  field: string,
): Promise<AnalyzedRequest> {
  const { lumen } = context;
  const runtime = requireRuntime(lumen);
  const source = checkImageInput(args.image);
  const unique = [...new Set(methods)];
  if (unique.length === 0) {
    throw clientError("BAD_USER_INPUT", "methods must not be empty");
  }
  if (unique.length > lumen.limits.maxMethods) {
    throw clientError(
      "BAD_USER_INPUT",
      `Too many methods: ${unique.length}, the limit is ${lumen.limits.maxMethods}`,
      { limit: lumen.limits.maxMethods },
    );
  }
  const params = checkOptions(args.options, unique);
  for (const method of unique) {
    lumen.registry.get(method).parseParams(params[method]);
  }
  const layer = runtime.catalog.resolve(args.layer);
  const classIndex = checkClass(runtime, args);
  const renderOptions = checkRender(args.render);

  // Downloading is slow: not for a request the queue would refuse anyway.
  if (source.kind === "url") refuseEarly(context, field);
  const bytes = await readImageBytes(source, context);
  const renderEager = selectsEagerly(info, RENDER_FIELDS);
  const maps = pending<MethodResult>(
    selectsAnywhere(info, MAP_FIELDS) ? unique : [],
  );
  const renders = pending<RenderedExplanation>(
    selectsAnywhere(info, RENDER_FIELDS) ? unique : [],
  );
  const renderMs = new Map<string, number>();
  const ready = Promise.withResolvers<Prepared>();
  ready.promise.catch(() => {});

  const job = modelJob(context, field, async (signal) => {
    const { image, decodeMs } = await decodeImageBytes(bytes, lumen.limits);
    signal.throwIfAborted();
    const analysis = await analyzeImage(runtime, lumen.registry, image, {
      methods: unique,
      layer: layer.name,
      classIndex,
      params,
    });
    ready.resolve({ image, decodeMs, analysis });
    for (const [method, map] of maps) {
      await nextMacrotask();
      signal.throwIfAborted();
      const rendering = renders.get(method);
      let result: MethodResult;
      try {
        result = await analysis.explain(method, { signal });
      } catch (error) {
        if (signal.aborted) throw error;
        map.reject(error);
        rendering?.reject(error);
        continue;
      }
      lumen.metrics.explained(method, result.explainMs / 1000);
      map.resolve(result);
      if (!rendering) continue;
      signal.throwIfAborted();
      const start = performance.now();
      try {
        const { heatmap } = result;
        rendering.resolve(
          await renderExplanation(
            image,
            heatmap.values,
            heatmap.width,
            heatmap.height,
            renderOptions,
          ),
        );
        renderMs.set(method, performance.now() - start);
      } catch (error) {
        if (signal.aborted) throw error;
        rendering.reject(error);
      }
    }
  });
  // A failed, refused or abandoned job fails everything still waiting on it.
  job.catch((error) => {
    ready.reject(error);
    for (const p of [...maps.values(), ...renders.values()]) p.reject(error);
  });
  const { image, decodeMs, analysis } = await ready.promise;

  // Parts the query did not select up front (none, normally): their own job.
  const extraResults = new Map<string, Promise<MethodResult>>();
  const resultOf = (method: string): Promise<MethodResult> => {
    const planned = maps.get(method)?.promise ?? extraResults.get(method);
    if (planned) return planned;
    const extra = modelJob(
      context,
      field,
      (signal) => analysis.explain(method, { signal }),
    );
    extraResults.set(method, extra);
    return extra;
  };
  const extraRenders = new Map<string, Promise<RenderedExplanation>>();
  const renderOf = (method: string): Promise<RenderedExplanation> => {
    const planned = renders.get(method)?.promise ?? extraRenders.get(method);
    if (planned) return planned;
    const extra = resultOf(method).then(({ heatmap }) =>
      modelJob(context, field, () =>
        renderExplanation(
          image,
          heatmap.values,
          heatmap.width,
          heatmap.height,
          renderOptions,
        ))
    );
    extraRenders.set(method, extra);
    return extra;
  };
  return {
    runtime,
    analysis,
    methods: unique,
    explanation: (method) =>
      explanationObject({
        runtime,
        analysis,
        method,
        decodeMs,
        renderEager,
        result: () => resultOf(method),
        render: () => renderOf(method),
        renderMs: () => renderMs.get(method) ?? 0,
      }),
    async settled(method) {
      await maps.get(method)?.promise;
      await renders.get(method)?.promise;
    },
  };
}

interface ExplanationParts {
  runtime: ModelRuntime;
  analysis: ImageAnalysis;
  method: string;
  decodeMs: number;
  /** Whether overlay/heatmap are selected outside @defer. */
  renderEager: boolean;
  result: () => Promise<MethodResult>;
  render: () => Promise<RenderedExplanation>;
  /** Milliseconds the rendering took; 0 before it is done. */
  renderMs: () => number;
}

function explanationObject(parts: ExplanationParts): ExplanationResult {
  const { analysis, result, render } = parts;
  const classIndex = analysis.classIndex;
  return {
    method: parts.method,
    layer: analysis.layer.name,
    classIndex,
    label: parts.runtime.labels[classIndex],
    probability: analysis.pass.probabilities[classIndex],
    predictions: () => analysis.top(5),
    map: async () => {
      const { heatmap } = await result();
      return {
        width: heatmap.width,
        height: heatmap.height,
        values: Array.from(heatmap.values),
        rawMin: heatmap.rawMin,
        rawMax: heatmap.rawMax,
      };
    },
    overlay: async () => (await render()).overlay,
    heatmap: async () => (await render()).heatmap,
    timings: () => ({
      decode: parts.decodeMs,
      forward: analysis.forwardMs,
      explain: async () => (await result()).explainMs,
      render: async () => {
        if (!parts.renderEager) return 0;
        await render();
        return parts.renderMs();
      },
    }),
  };
}
