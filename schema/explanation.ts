/**
 * The pipeline behind `explain` and `explainMany`: validate every argument,
 * read and decode the image, run one shared analysis, then hand out
 * `Explanation` objects whose expensive fields (`map`, `overlay`,
 * `heatmap`) are computed only when selected, once.
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
  type ImageInputArg,
  loadImage,
} from "./image_input.ts";
import { selectsEagerly } from "./selection.ts";

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
}

/** Fields whose selection makes rendering part of the eager work. */
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

/**
 * Validates the request (model ready, image source, methods, options,
 * layer, class, render options) before any work, then reads and decodes
 * the image and runs the one analysis every method shares.
 *
 * @example
 * ```ts
 * const request = await analyzeRequest(context, args, ["gradcam"], info);
 * return request.explanation("gradcam");
 * ```
 */
export async function analyzeRequest(
  context: LumenContext,
  args: ExplainArgs,
  methods: readonly string[],
  info: GraphQLResolveInfo,
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

  const { image, decodeMs } = await loadImage(source, context);
  const analysis = await analyzeImage(runtime, lumen.registry, image, {
    methods: unique,
    layer: layer.name,
    classIndex,
    params,
  });
  const renderEager = selectsEagerly(info, RENDER_FIELDS);
  return {
    runtime,
    analysis,
    methods: unique,
    explanation: (method) =>
      explanationObject({
        runtime,
        analysis,
        method,
        image,
        decodeMs,
        renderOptions,
        renderEager,
      }),
  };
}

interface ExplanationParts {
  runtime: ModelRuntime;
  analysis: ImageAnalysis;
  method: string;
  image: RgbImage;
  decodeMs: number;
  renderOptions: { colormap: string; alpha: number };
  /** Whether overlay/heatmap are selected outside @defer. */
  renderEager: boolean;
}

function explanationObject(parts: ExplanationParts): ExplanationResult {
  const { analysis, method, image } = parts;
  const result = (): Promise<MethodResult> => analysis.explain(method);
  let rendered: Promise<RenderedExplanation> | null = null;
  let renderMs = 0;
  const render = () =>
    rendered ??= result().then(async ({ heatmap }) => {
      const start = performance.now();
      const out = await renderExplanation(
        image,
        heatmap.values,
        heatmap.width,
        heatmap.height,
        parts.renderOptions,
      );
      renderMs = performance.now() - start;
      return out;
    });
  const classIndex = analysis.classIndex;
  return {
    method,
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
        if (parts.renderEager) await render();
        return renderMs;
      },
    }),
  };
}
