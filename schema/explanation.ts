/**
 * The `Explanation` objects behind `explain`, `explainMany` and
 * `explainProgress`: arguments are checked by the core (`explain/`) before
 * any work, the image is read, then one call to the explanation service
 * computes what the query selects (in `@defer` fragments too) and reports
 * each part as it is ready. The resolver answers once the shared pass is
 * done; `Explanation` fields wait for their part, so `@defer` and `@stream`
 * deliver early parts early. `Explanation.faithfulness`, opt-in, is one
 * more service call per selection.
 *
 * @module
 */
import type { GraphQLResolveInfo } from "graphql";
import type { Prediction } from "../explainers/mod.ts";
import {
  type AnalysisSummary,
  type CheckedExplain,
  checkExplain,
  checkFaithfulness,
  type ExplainArgs,
  explainCost,
  type FaithfulnessSettings,
  type MethodMap,
  type MethodRendering,
} from "../explain/mod.ts";
import {
  base64DataUrlBytes,
  type Heatmap,
  type LongStrings,
  toDataUrl,
} from "../lib/mod.ts";
import { modelView, overloaded } from "../workers/mod.ts";
import type { LumenContext } from "./context.ts";
import {
  checkImageInput,
  type ImageInputArg,
  type ImageSource,
  readImageBytes,
} from "./image_input.ts";
import { type FieldJob, modelJob, untilScopeEnds } from "./model_job.ts";
import { selectsAnywhere, selectsEagerly } from "./selection.ts";

/** Arguments `explain`, `explainMany` and `explainProgress` share. */
export interface ExplainFieldArgs
  extends Omit<ExplainArgs, "methods" | "outputs"> {
  image: ImageInputArg;
}

/** A field's arguments with the methods it asks for (`[args.method]` for one). */
export interface ExplainRequestArgs extends ExplainFieldArgs {
  /** Methods in request order; duplicates are dropped by the check. */
  methods: readonly string[];
}

/** The explanation field being resolved. */
export interface ExplainCall extends FieldJob {
  /** The field's resolve info: what the query selects. */
  info: GraphQLResolveInfo;
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
 * import assert from "node:assert/strict";
 * // `map.heatmap` of a method's map:
 * const heatmap = { width: 2, height: 1, values: new Float32Array([0, 1]), rawMin: -1, rawMax: 3 };
 * assert.deepEqual(heatmapResult(heatmap), {
 *   width: 2, height: 1, values: [0, 1], rawMin: -1, rawMax: 3, // width * height values
 * });
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

/** Arguments of `Explanation.faithfulness`. */
export interface FaithfulnessArgs {
  baseline?: string | null;
  steps?: number | null;
}

/** The `Faithfulness` GraphQL type. */
export interface FaithfulnessResult extends FaithfulnessSettings {
  deletionAuc: number;
  insertionAuc: number;
  keepTopDrop: number;
  keepTopProbability: number;
  deletion: number[];
  insertion: number[];
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
  details: () => Promise<{ name: string; value: number }[]>;
  faithfulness: (args: FaithfulnessArgs) => Promise<FaithfulnessResult>;
}

/** One analysed image, ready to hand out explanations. */
export interface AnalyzedRequest {
  readonly analysis: AnalysisSummary;
  /** Methods in request order, without duplicates. */
  readonly methods: readonly string[];
  /** Builds the `Explanation` of one of `methods`. */
  explanation(method: string): ExplanationResult;
  /**
   * Resolves once the call has done `method`'s part (its map, and its
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

/** Options of {@linkcode analyzeRequest}. */
export interface AnalyzeOptions {
  /**
   * Field names from the field being resolved to its `Explanation`
   * selection, e.g. `["explanation"]`; @default [] (the field itself)
   */
  path?: readonly string[];
  /** Compute every method's map even when nothing selected needs it; @default false */
  computeMaps?: boolean;
  /** Each method's progress, as its map is computed. */
  onProgress?: (method: string, fraction: number) => void;
}

/** Promises the call fills in, keyed by method; unhandled rejections muted. */
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

/** The outputs a query selects under `path`. */
function selectedOutputs(
  info: GraphQLResolveInfo,
  path: readonly string[],
  computeMaps: boolean,
) {
  const at = { path };
  const overlay = selectsAnywhere(info, ["overlay"], at);
  const heatmap = selectsAnywhere(info, ["heatmap"], at);
  return {
    maps: computeMaps || selectsAnywhere(info, MAP_FIELDS, at),
    overlay,
    heatmap,
  };
}

/** A request whose every argument was checked; the image not read yet. */
export interface CheckedRequest {
  source: ImageSource;
  checked: CheckedExplain;
  /** Whether overlay/heatmap are selected outside @defer. */
  renderEager: boolean;
}

/**
 * Checks the arguments through the core (`checkExplain`, against the
 * model's description) before any work: the first problem's client error.
 *
 * @example
 * ```ts ignore
 * // In a resolver: `context` holds the server's service (a loaded model).
 * const request = await checkRequest({ context, info }, { ...args, methods: ["gradcam"] });
 * ```
 */
export async function checkRequest(
  call: Pick<ExplainCall, "context" | "info">,
  args: ExplainRequestArgs,
  options: Pick<AnalyzeOptions, "path" | "computeMaps"> = {},
): Promise<CheckedRequest> {
  const { context, info } = call;
  const { lumen } = context;
  const source = checkImageInput(args.image);
  const path = options.path ?? [];
  const outputs = selectedOutputs(info, path, options.computeMaps ?? false);
  const model = await untilScopeEnds(
    lumen.service.describe(args.model, { signal: context.scope.signal }),
    context,
  );
  const checked = checkExplain(
    { model: modelView(model), registry: lumen.registry },
    { ...args, outputs },
    lumen.limits,
  );
  const renderEager = selectsEagerly(info, ["overlay", "heatmap"], { path });
  return { source, checked, renderEager };
}

/**
 * {@linkcode checkRequest}, then {@linkcode startRequest}.
 *
 * @example
 * ```ts ignore
 * // In a resolver: `context` holds the server's service (a loaded model).
 * const call = { context, info, field: "explain" };
 * const request = await analyzeRequest(call, { ...args, methods: ["gradcam"] });
 * return request.explanation("gradcam");
 * ```
 */
export async function analyzeRequest(
  call: ExplainCall,
  args: ExplainRequestArgs,
  options: AnalyzeOptions = {},
): Promise<AnalyzedRequest> {
  const request = await checkRequest(call, args, options);
  return await startRequest(call, request, options);
}

/**
 * Reads the image of a checked request, then starts one call to the
 * explanation service; resolves once the shared pass is done.
 *
 * @example
 * ```ts ignore
 * // In a resolver: `context` holds the server's service (a loaded model).
 * const request = await checkRequest({ context, info }, { ...args, methods });
 * const analyzed = await startRequest({ context, field: "explain" }, request);
 * ```
 */
export async function startRequest(
  job: FieldJob,
  request: CheckedRequest,
  options: Pick<AnalyzeOptions, "onProgress"> = {},
): Promise<AnalyzedRequest> {
  const { context } = job;
  const { lumen } = context;
  const { source, checked, renderEager } = request;
  const { outputs } = checked;
  if (source.kind === "url") {
    // Downloading is slow: not for a request the queue would refuse anyway.
    const model = await lumen.service.describe(checked.model);
    const cost = explainCost(
      { model: modelView(model), registry: lumen.registry },
      checked,
    );
    if (lumen.service.full(cost)) {
      throw overloaded(lumen.service.stats().queue.maxQueued);
    }
  }
  const bytes = await readImageBytes(source, context);
  const unique = checked.methods;
  const maps = pending<MethodMap>(outputs.maps ? unique : []);
  const renders = pending<MethodRendering>(
    outputs.overlay || outputs.heatmap ? unique : [],
  );
  const ready = Promise.withResolvers<AnalysisSummary>();
  ready.promise.catch(() => {});
  const call = modelJob(
    job,
    (signal) =>
      lumen.service.explain({ ...checked, image: bytes }, {
        signal,
        onAnalysis: (analysis) => ready.resolve(analysis),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        onMap(map) {
          lumen.metrics.explained(map.method, map.explainMs / 1000);
          maps.get(map.method)?.resolve(map);
        },
        onRendering: (rendering) =>
          renders.get(rendering.method)?.resolve(rendering),
        onMethodError(method, error) {
          maps.get(method)?.reject(error);
          renders.get(method)?.reject(error);
        },
      }),
  );
  // A failed, refused or abandoned call fails everything still waiting on it.
  call.catch((error) => {
    ready.reject(error);
    for (const p of [...maps.values(), ...renders.values()]) p.reject(error);
  });
  const analysis = await ready.promise;
  const parts = { context, analysis, checked, bytes, renderEager };
  return {
    analysis,
    methods: unique,
    explanation: (method) =>
      explanationObject(method, {
        ...parts,
        map: () => need(maps.get(method), method, "map"),
        rendering: () => need(renders.get(method), method, "rendering"),
      }),
    async settled(method) {
      await maps.get(method)?.promise;
      await renders.get(method)?.promise;
    },
  };
}

/** A part the query did not select up front (never, for a valid query). */
function need<T>(
  planned: PromiseWithResolvers<T> | undefined,
  method: string,
  part: string,
): Promise<T> {
  return planned?.promise ??
    Promise.reject(new Error(`The ${part} of "${method}" was not computed`));
}

interface ExplanationParts {
  context: LumenContext;
  analysis: AnalysisSummary;
  checked: CheckedExplain;
  bytes: Uint8Array;
  /** Whether overlay/heatmap are selected outside @defer. */
  renderEager: boolean;
  map: () => Promise<MethodMap>;
  rendering: () => Promise<MethodRendering>;
}

/**
 * Data URLs by PNG: methods whose maps render alike share their PNGs (the
 * same bytes), and their answers one string. With kept strings, one key of
 * that answer's set: a key is only text in any other answer, so those are
 * cached per set, never across answers.
 */
const plainUrls = new WeakMap<Uint8Array, string>();
const keptUrls = new WeakMap<LongStrings, WeakMap<Uint8Array, string>>();

/**
 * A PNG's data URL; with the answer's kept strings, the key of its bytes
 * (an overlay's 307 KB of base64 never becomes a string).
 */
function png(
  context: LumenContext,
  bytes: Uint8Array | undefined,
  what: string,
): string {
  if (!bytes) throw new Error(`The ${what} was not rendered`);
  const strings = context.answerStrings;
  let urls = strings ? keptUrls.get(strings) : plainUrls;
  if (!urls) {
    urls = new WeakMap();
    keptUrls.set(strings!, urls);
  }
  let url = urls.get(bytes);
  if (url === undefined) {
    url = strings
      ? strings.add(base64DataUrlBytes(bytes, "image/png"))
      : toDataUrl(bytes);
    urls.set(bytes, url);
  }
  return url;
}

function explanationObject(
  method: string,
  parts: ExplanationParts,
): ExplanationResult {
  const { analysis, map, rendering, context } = parts;
  return {
    method,
    layer: analysis.layer,
    classIndex: analysis.classIndex,
    label: analysis.label,
    probability: analysis.probability,
    predictions: () => analysis.predictions,
    map: async () => heatmapResult((await map()).heatmap),
    overlay: async () => png(context, (await rendering()).overlay, "overlay"),
    heatmap: async () => png(context, (await rendering()).heatmap, "heatmap"),
    timings: () => ({
      decode: analysis.decodeMs,
      forward: analysis.forwardMs,
      explain: async () => (await map()).explainMs,
      render: async () => parts.renderEager ? (await rendering()).renderMs : 0,
    }),
    details: async () =>
      Object.entries((await map()).details ?? {}).map(([name, value]) => ({
        name,
        value,
      })),
    async faithfulness(args) {
      const scoring = checkFaithfulness(args);
      const { heatmap } = await map();
      const scores = await modelJob(
        { context, field: "faithfulness" },
        (signal) =>
          context.lumen.service.faithfulness({
            model: parts.checked.model,
            image: parts.bytes,
            classIndex: analysis.classIndex,
            map: heatmap,
            ...scoring,
          }, { signal }),
      );
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
