/**
 * The pipeline behind `explain`, `explainMany` and `explainProgress`:
 * validate every argument, read the image, then run one model job through
 * the queue that decodes it, runs the one shared analysis, and computes
 * every map and rendering the query selects (in `@defer` fragments too), in
 * method order, reporting each method's progress. The resolver answers as
 * soon as the analysis is ready; `Explanation` fields wait for their part
 * of the job, so `@defer` and `@stream` still deliver early parts early.
 * `Explanation.faithfulness`, opt-in, is one more model job per selection.
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
import {
  faithfulness,
  type FaithfulnessScores,
} from "../explainers/faithfulness.ts";
import { colormapLut } from "../lib/colormap.ts";
import { clientError } from "../lib/errors.ts";
import type { Heatmap } from "../lib/heatmap.ts";
import type { RgbImage } from "../lib/image.ts";
import { type RenderedExplanation, renderExplanation } from "../lib/render.ts";
import { type LayerInfo, type ModelRuntime } from "../models/mod.ts";
import { resolveClassName } from "./class_name.ts";
import { type LumenContext, requireRuntime } from "./context.ts";
import {
  checkImageInput,
  decodeImageBytes,
  type ImageInputArg,
  type ImageSource,
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

/**
 * The `Heatmap` of a scaled map.
 *
 * @example
 * ```ts
 * heatmapResult(result.heatmap).values.length; // width * height
 * ```
 */
export function heatmapResult(heatmap: Heatmap): HeatmapResult {
  return {
    width: heatmap.width,
    height: heatmap.height,
    values: Array.from(heatmap.values),
    rawMin: heatmap.rawMin,
    rawMax: heatmap.rawMax,
  };
}

/** The `Detail` GraphQL type: one of a method's diagnostic values. */
export interface DetailResult {
  name: string;
  value: number;
}

/** Arguments of `Explanation.faithfulness`. */
export interface FaithfulnessArgs {
  baseline?: string | null;
  steps?: number | null;
}

/** The `Faithfulness` GraphQL type. */
export interface FaithfulnessResult {
  deletionAuc: number;
  insertionAuc: number;
  keepTopDrop: number;
  keepTopProbability: number;
  deletion: number[];
  insertion: number[];
  baseline: string;
  steps: number;
}

/**
 * The baselines `Explanation.faithfulness` accepts.
 *
 * @example
 * ```ts
 * FAITHFULNESS_BASELINES.includes("mean"); // true
 * ```
 */
export const FAITHFULNESS_BASELINES: readonly ("blur" | "mean")[] = [
  "blur",
  "mean",
];

/**
 * The most steps `Explanation.faithfulness` accepts (2·steps + 1 passes).
 *
 * @example
 * ```ts
 * checkFaithfulness({ steps: MAX_FAITHFULNESS_STEPS + 1 }); // throws BAD_USER_INPUT
 * ```
 */
export const MAX_FAITHFULNESS_STEPS = 100;

/**
 * Validates the arguments of `Explanation.faithfulness`, filling in the
 * defaults; throws `BAD_USER_INPUT` listing what is valid.
 *
 * @example
 * ```ts
 * checkFaithfulness({}); // { baseline: "blur", steps: 20 }
 * checkFaithfulness({ baseline: "grey" }); // throws: valid baselines are "blur", "mean"
 * ```
 */
export function checkFaithfulness(
  args: FaithfulnessArgs,
): { baseline: "blur" | "mean"; steps: number } {
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
  details: () => Promise<DetailResult[]>;
  /** Validates its arguments, then scores the map in a model job of its own. */
  faithfulness: (args: FaithfulnessArgs) => Promise<FaithfulnessResult>;
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
const MAP_FIELDS = [
  "map",
  "overlay",
  "heatmap",
  "timings",
  "details",
  "faithfulness",
];
/** Fields that need a method's rendering. */
const RENDER_FIELDS = ["overlay", "heatmap"];

/**
 * Checks per-method options: null, or an object keyed by requested methods
 * (`BAD_USER_INPUT` otherwise). Each method's own options are checked by
 * its `parseParams`.
 *
 * @example
 * ```ts
 * checkOptions({ scorecam: { topChannels: 8 } }, ["scorecam"]); // as given
 * ```
 */
export function checkOptions(
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

/**
 * The class asked for by `classIndex` or `className` (not both), checked;
 * null for the top-1 class.
 *
 * @example
 * ```ts
 * checkClass(runtime, { image, className: "tabby" }); // 281
 * ```
 */
export function checkClass(
  runtime: ModelRuntime,
  args: Pick<ExplainArgs, "classIndex" | "className">,
): number | null {
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

/** A request whose every argument was checked; nothing read or run yet. */
export interface CheckedRequest {
  runtime: ModelRuntime;
  source: ImageSource;
  /** Methods in request order, without duplicates. */
  methods: readonly string[];
  /** Per-method options, keyed by method (each checked by its explainer). */
  params: Record<string, unknown>;
  layer: LayerInfo;
  /** null: the top-1 class. */
  classIndex: number | null;
  render: { colormap: string; alpha: number };
}

/**
 * Checks a request before any work: model ready, image source, methods
 * (at most `maxMethods`), options, layer, class and render options. Throws
 * the client error of the first problem.
 *
 * @example
 * ```ts
 * const checked = checkRequest(context, args, ["gradcam"]);
 * checked.layer.name; // e.g. "activation_49"
 * ```
 */
export function checkRequest(
  context: LumenContext,
  args: ExplainArgs,
  methods: readonly string[],
): CheckedRequest {
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
  return {
    runtime,
    source,
    methods: unique,
    params,
    layer: runtime.catalog.resolve(args.layer),
    classIndex: checkClass(runtime, args),
    render: checkRender(args.render),
  };
}

/** Options of {@linkcode analyzeRequest}. */
export interface AnalyzeOptions {
  /**
   * Field names from the field being resolved to its `Explanation`
   * selection, e.g. `["explanation"]`; @default [] (the field itself)
   */
  path?: readonly string[];
  /**
   * Compute every method's map in the job even when the query selects
   * nothing that needs it; @default false
   */
  computeMaps?: boolean;
  /** Each method's progress, as the job computes its map. */
  onProgress?: (method: string, fraction: number) => void;
}

/**
 * Validates the request ({@linkcode checkRequest}) before any work, reads
 * the image, then runs the model job (see the module doc); resolves once
 * the shared analysis is ready.
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
  options: AnalyzeOptions = {},
): Promise<AnalyzedRequest> {
  const { lumen } = context;
  const {
    runtime,
    source,
    methods: unique,
    params,
    layer,
    classIndex,
    render: renderOptions,
  } = checkRequest(context, args, methods);

  // Downloading is slow: not for a request the queue would refuse anyway.
  if (source.kind === "url") refuseEarly(context, field);
  const bytes = await readImageBytes(source, context);
  const at = { path: options.path ?? [] };
  const renderEager = selectsEagerly(info, RENDER_FIELDS, at);
  const maps = pending<MethodResult>(
    options.computeMaps || selectsAnywhere(info, MAP_FIELDS, at) ? unique : [],
  );
  const renders = pending<RenderedExplanation>(
    selectsAnywhere(info, RENDER_FIELDS, at) ? unique : [],
  );
  const { onProgress } = options;
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
        result = await analysis.explain(method, {
          signal,
          onProgress: onProgress &&
            ((fraction) => onProgress(method, fraction)),
        });
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
  const scoreMap = async (
    method: string,
    scoring: { baseline: "blur" | "mean"; steps: number },
  ): Promise<FaithfulnessScores> => {
    const { heatmap } = await resultOf(method);
    return modelJob(context, "faithfulness", (signal) =>
      faithfulness(runtime, {
        input: runtime.prepare(image),
        classIndex: analysis.classIndex,
        map: heatmap,
        ...scoring,
        signal,
      }));
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
        faithfulness: (scoring) => scoreMap(method, scoring),
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
  /** Scores the map, as a model job of its own. */
  faithfulness: (
    scoring: { baseline: "blur" | "mean"; steps: number },
  ) => Promise<FaithfulnessScores>;
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
    map: async () => heatmapResult((await result()).heatmap),
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
    details: async () =>
      Object.entries((await result()).details ?? {}).map(([name, value]) => ({
        name,
        value,
      })),
    faithfulness: async (args) => {
      const scoring = checkFaithfulness(args);
      const scores = await parts.faithfulness(scoring);
      return {
        deletionAuc: scores.deletionAuc,
        insertionAuc: scores.insertionAuc,
        keepTopDrop: scores.keepTopDrop,
        keepTopProbability: scores.keepTopProbability,
        deletion: scores.deletionCurve,
        insertion: scores.insertionCurve,
        ...scoring,
      };
    },
  };
}
