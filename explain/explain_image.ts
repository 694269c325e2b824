/**
 * The explanation use case: decode an image, run the one shared model pass,
 * compute each method's map in order and render what was asked for,
 * reporting each part as soon as it is ready. No GraphQL, no HTTP: the API,
 * the CLI, jobs, the bench and the doc tools all run explanations through
 * here.
 *
 * @module
 */
import {
  type Prediction,
  type Registry,
  runAnalysis,
  topClasses,
} from "../explainers/mod.ts";
import {
  ClientError,
  decodeImage,
  type Heatmap,
  isClientError,
  type MapGrid,
  type RenderedPngs,
  type Renderer,
  renderHere,
  type RgbImage,
  sameRendering,
  turnTaker,
} from "../lib/mod.ts";
import type { ModelRuntime } from "../models/mod.ts";
import type { CheckedExplain } from "./request.ts";

/** What the use case needs: the model and the methods. */
export interface ExplainDeps {
  runtime: ModelRuntime;
  registry: Registry;
  /** Largest decoded image, width × height (checked from the header). */
  maxPixels: number;
  /**
   * Where PNGs are rendered: a pool with a render thread overlaps the
   * rendering of several methods. @default rendering on this thread
   */
  renderer?: Renderer | undefined;
}

/** The shared pass is done: what every method's explanation shares. */
export interface AnalysisSummary {
  model: string;
  /** The layer's own name. */
  layer: string;
  classIndex: number;
  label: string;
  /** Softmax probability of `classIndex`. */
  probability: number;
  /** The top 5 classes. */
  predictions: Prediction[];
  /** The decoded image's size. */
  image: { width: number; height: number };
  decodeMs: number;
  /** The shared model pass, ms. */
  forwardMs: number;
}

/** One method's map. */
export interface MethodMap {
  method: string;
  /** After ReLU and scaling to [0, 1] (raw range kept). */
  heatmap: Heatmap;
  explainMs: number;
  /** The method's diagnostics, if any. */
  details?: Record<string, number>;
}

/** One method's renderings, PNG bytes at the image's size. */
export interface MethodRendering {
  method: string;
  overlay?: Uint8Array | undefined;
  heatmap?: Uint8Array | undefined;
  renderMs: number;
}

/** Everything computed for one method; `error` when it failed alone. */
export interface MethodOutcome {
  method: string;
  map?: MethodMap;
  rendering?: MethodRendering;
  error?: ClientError | Error;
}

/** A whole explanation. */
export interface ExplainOutcome {
  analysis: AnalysisSummary;
  /** In request order. */
  methods: MethodOutcome[];
}

/** Progress, partial results and cancellation. */
export interface ExplainHooks {
  /** Aborting stops the work at its next step (throws the reason). */
  signal?: AbortSignal | undefined;
  /** Long methods await it between batches (cheaper work may run first). */
  pause?: ((() => Promise<void>)) | undefined;
  onAnalysis?: (((analysis: AnalysisSummary) => void)) | undefined;
  /** A long method's fraction done, 0 to 1, in order. */
  onProgress?: (((method: string, fraction: number) => void)) | undefined;
  onMap?: (((map: MethodMap) => void)) | undefined;
  onRendering?: (((rendering: MethodRendering) => void)) | undefined;
  /** One method failed; the others go on. */
  onMethodError?: (((method: string, error: unknown) => void)) | undefined;
}

/** A checked request and its image. */
export interface ExplainImageRequest extends CheckedExplain {
  /** PNG or JPEG bytes. */
  image: Uint8Array | RgbImage;
}

/**
 * Decodes image bytes under the pixel limit, timing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = await Deno.readFile("tests/fixtures/chelsea.png");
 * const { image, decodeMs } = await decodeTimed(bytes, 40_000_000);
 * assert.equal(image.width, 451);
 * assert.ok(decodeMs >= 0);
 * ```
 */
export async function decodeTimed(
  bytes: Uint8Array | RgbImage,
  maxPixels: number,
): Promise<{ image: RgbImage; decodeMs: number }> {
  if (!(bytes instanceof Uint8Array)) return { image: bytes, decodeMs: 0 };
  const start = performance.now();
  const image = await decodeImage(bytes, { maxPixels });
  return { image, decodeMs: performance.now() - start };
}

/**
 * Explains one image with each checked method: one shared pass, then each
 * method's map (and renderings, as `outputs` asks), in order. A method that
 * fails on its own is reported (`onMethodError`, `MethodOutcome.error`)
 * and the others go on; an aborted signal, a bad image or a failed pass
 * reject the whole call.
 *
 * @example
 * ```ts ignore
 * // `runtime`: a loaded model (loadModel); `registry`: createRegistry()
 * const checked = checkExplain({ model: runtime, registry }, { methods: ["gradcam"] }, { maxMethods: 16 });
 * const outcome = await explainImage(
 *   { runtime, registry, maxPixels: 40_000_000 },
 *   { ...checked, image: await Deno.readFile("cat.png") },
 * );
 * outcome.methods[0].rendering?.overlay; // PNG bytes
 * ```
 */
export async function explainImage(
  deps: ExplainDeps,
  request: ExplainImageRequest,
  hooks: ExplainHooks = {},
): Promise<ExplainOutcome> {
  const { runtime, registry } = deps;
  const { signal } = hooks;
  signal?.throwIfAborted();
  const { image, decodeMs } = await decodeTimed(request.image, deps.maxPixels);
  signal?.throwIfAborted();
  const analysis = await runAnalysis({ runtime, registry }, image, request);
  const summary: AnalysisSummary = {
    model: runtime.name,
    layer: analysis.layer.name,
    classIndex: analysis.classIndex,
    label: runtime.labels[analysis.classIndex],
    probability: analysis.pass.probabilities[analysis.classIndex],
    predictions: analysis.top(5),
    image: { width: image.width, height: image.height },
    decodeMs,
    forwardMs: analysis.forwardMs,
  };
  hooks.onAnalysis?.(summary);
  const { outputs, render } = request;
  const rendered = outputs.overlay || outputs.heatmap;
  if (!outputs.maps && !rendered) {
    return {
      analysis: summary,
      methods: request.methods.map((method) => ({ method })),
    };
  }
  const renderer = deps.renderer ?? renderHere();
  const takeTurn = turnTaker();
  const outcomes: MethodOutcome[] = [];
  const renders: Promise<void>[] = [];
  // Methods can agree (at ResNet-50's last stage HiResCAM's map is
  // Grad-CAM's bit for bit, and XGrad-CAM's equal or a few ulps off): a map
  // that renders as one already sent to render, every pixel on the same
  // colour level, shares its PNGs instead of being encoded again.
  const encoded: { map: MapGrid; pngs: Promise<RenderedPngs> }[] = [];
  for (const [index, method] of request.methods.entries()) {
    await takeTurn();
    signal?.throwIfAborted();
    let map: MethodMap;
    try {
      const result = await analysis.explain(method, {
        signal,
        ...(hooks.pause ? { pause: hooks.pause } : {}),
        onProgress: hooks.onProgress &&
          ((fraction) => hooks.onProgress!(method, fraction)),
      });
      map = {
        method,
        heatmap: result.heatmap,
        explainMs: result.explainMs,
        ...(result.details ? { details: result.details } : {}),
      };
    } catch (error) {
      if (signal?.aborted || !isMethodError(error)) throw error;
      hooks.onMethodError?.(method, error);
      outcomes[index] = { method, error: error as Error };
      continue;
    }
    hooks.onMap?.(map);
    if (!rendered) {
      outcomes[index] = { method, map };
      continue;
    }
    signal?.throwIfAborted();
    const start = performance.now();
    const last = index === request.methods.length - 1;
    const same = encoded.find((r) => sameRendering(r.map, map.heatmap, image));
    // Not awaited: the next method's map is made while these PNGs are
    // encoded (by a pool's render thread). After the last map this thread
    // has nothing left to overlap: it renders here (and helps the pool).
    let pngs: Promise<RenderedPngs>;
    if (same) {
      pngs = same.pngs;
      if (last) void renderer.idle();
    } else {
      pngs = renderer.render({
        image,
        map: map.heatmap,
        options: {
          ...render,
          overlay: outputs.overlay,
          heatmap: outputs.heatmap,
        },
      }, { here: last });
      encoded.push({ map: map.heatmap, pngs });
    }
    renders.push(
      pngs.then((pngs) => {
        const rendering: MethodRendering = {
          method,
          ...pngs,
          renderMs: performance.now() - start,
        };
        if (!signal?.aborted) hooks.onRendering?.(rendering);
        outcomes[index] = { method, map, rendering };
      }),
    );
  }
  await Promise.all(renders);
  signal?.throwIfAborted();
  return { analysis: summary, methods: outcomes };
}

/**
 * Whether a method's failure is its own (a client error, e.g. an option
 * that does not fit this input; or a bug in that method) rather than the
 * model's: model faults end the whole request.
 */
function isMethodError(error: unknown): boolean {
  if (isClientError(error)) return error.code !== "MODEL_CRASHED";
  return !(error instanceof WebAssembly.RuntimeError);
}

/**
 * The model's top classes for one image: one forward pass.
 *
 * @example
 * ```ts ignore
 * // `deps`: { runtime, maxPixels } with a loaded model (loadModel)
 * const top = await predictImage(deps, { image: bytes, top: 5 });
 * top[0].label; // "Egyptian_cat"
 * ```
 */
export async function predictImage(
  deps: Omit<ExplainDeps, "registry">,
  request: { image: Uint8Array | RgbImage; top: number },
  hooks: Pick<ExplainHooks, "signal"> = {},
): Promise<Prediction[]> {
  const { runtime } = deps;
  const { image } = await decodeTimed(request.image, deps.maxPixels);
  hooks.signal?.throwIfAborted();
  const pass = await runtime.run(runtime.prepare(image), { layer: null });
  return topClasses(pass.probabilities, runtime.labels, { top: request.top });
}
