/**
 * What callers ask of the explanation core, and its validation: every
 * argument is checked once, here, before any work (method names and
 * options, layer, class, render settings, limits), and the checked request
 * is plain data that can cross a process boundary.
 *
 * @module
 */
import { planAnalysis, type Registry } from "../explainers/mod.ts";
import { clientError, colormapLut } from "../lib/mod.ts";
import { type ModelRuntime, resolveClassName } from "../models/mod.ts";

/** The model facts validation needs (a loaded runtime, or its description). */
export type ModelView = Pick<
  ModelRuntime,
  "name" | "labels" | "catalog" | "inputSize" | "checkClass"
>;

/** Colour map and blend weight of overlays. */
export interface RenderSettings {
  /** One of `COLORMAPS`; @default "jet" */
  colormap: string;
  /** Weight of the coloured map in the overlay, 0 to 1; @default 0.3 */
  alpha: number;
}

/** What to compute for each method. */
export interface Outputs {
  /** The map (needed by every other output, and by timings and details). */
  maps: boolean;
  /** The overlay PNG. */
  overlay: boolean;
  /** The coloured map PNG. */
  heatmap: boolean;
}

/** An explanation request as callers give it. */
export interface ExplainArgs {
  /** Model name; @default the first model */
  model?: string | null | undefined;
  methods: readonly string[];
  /** Layer name or alias; @default the model's default layer */
  layer?: string | null | undefined;
  /** @default the top-1 class */
  classIndex?: number | null | undefined;
  /** A label instead of `classIndex` (case and `_`/space do not matter). */
  className?: string | null | undefined;
  /** Per-method options, keyed by method. */
  options?: unknown;
  render?:
    | {
      colormap?: string | null | undefined;
      alpha?: number | null | undefined;
    }
    | null
    | undefined;
  /** @default everything */
  outputs?: Partial<Outputs> | undefined;
}

/** A request whose every argument was checked: plain data. */
export interface CheckedExplain {
  model: string;
  /** Methods in request order, without duplicates. */
  methods: readonly string[];
  /** Each method's parsed options. */
  params: Readonly<Record<string, unknown>>;
  /** The layer's own name. */
  layer: string;
  /** null: the top-1 class. */
  classIndex: number | null;
  render: RenderSettings;
  outputs: Outputs;
}

/** Limits validation enforces. */
export interface RequestLimits {
  /** Most methods in one request. */
  maxMethods: number;
}

/**
 * Checks per-method options: null, or an object keyed by requested methods
 * (`BAD_USER_INPUT` otherwise). Each method's own options are checked by
 * its `parseParams`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options = { scorecam: { topChannels: 8 } };
 * assert.equal(checkOptions(options, ["scorecam"]), options); // as given
 * assert.throws(() => checkOptions(options, ["gradcam"]), { code: "BAD_USER_INPUT" });
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

/**
 * Render settings with their defaults; `UNKNOWN_COLORMAP` or
 * `BAD_USER_INPUT` (alpha outside [0, 1]).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkRender(null), { colormap: "jet", alpha: 0.3 });
 * assert.throws(() => checkRender({ colormap: "rainbow" }), { code: "UNKNOWN_COLORMAP" });
 * ```
 */
export function checkRender(render: ExplainArgs["render"]): RenderSettings {
  const colormap = render?.colormap ?? "jet";
  const alpha = render?.alpha ?? 0.3;
  colormapLut(colormap); // throws UNKNOWN_COLORMAP listing the valid names
  if (!(typeof alpha === "number" && alpha >= 0 && alpha <= 1)) {
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
 * import assert from "node:assert/strict";
 * import { checkClassIndex, resnet50Labels } from "../models/mod.ts";
 * const labels = await resnet50Labels();
 * const model = { labels, checkClass: (i: number) => checkClassIndex(labels, i) };
 * assert.equal(checkClass(model, { className: "tabby" }), 281);
 * assert.equal(checkClass(model, {}), null); // the top-1 class
 * ```
 */
export function checkClass(
  model: Pick<ModelView, "labels" | "checkClass">,
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
    model.checkClass(args.classIndex!);
    return args.classIndex!;
  }
  return hasName ? resolveClassName(model.labels, args.className!) : null;
}

/**
 * Checks a request before any work: methods (at most `maxMethods`, known,
 * options valid), layer, class and render settings. Throws the client
 * error of the first problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { checkClassIndex, layerCatalog } from "../models/mod.ts";
 * // What validation needs of a model: a loaded runtime, or its description.
 * const labels = ["tench", "goldfish", "great_white_shark"];
 * const model = {
 *   name: "resnet50",
 *   labels,
 *   inputSize: { width: 224, height: 224 },
 *   catalog: layerCatalog([{
 *     name: "activation_48", kind: "Activation", shape: [7, 7, 2048],
 *     aliases: ["layer4"], spatial: true,
 *   }], "activation_48"),
 *   checkClass: (i: number) => checkClassIndex(labels, i),
 * };
 * const deps = { model, registry: createRegistry() };
 * const checked = checkExplain(deps, { methods: ["gradcam"] }, { maxMethods: 16 });
 * assert.equal(checked.layer, "activation_48"); // the default layer
 * assert.throws(
 *   () => checkExplain(deps, { methods: ["gradcam"], layer: "layer9" }, { maxMethods: 16 }),
 *   { code: "UNKNOWN_LAYER" },
 * );
 * ```
 */
export function checkExplain(
  deps: {
    /** The model's facts: a loaded runtime, or its description. */
    model: ModelView;
    /** The explainers method names and options are checked against. */
    registry: Registry;
  },
  args: ExplainArgs,
  limits: RequestLimits,
): CheckedExplain {
  const { model, registry } = deps;
  const methods = [...new Set(args.methods)];
  if (methods.length === 0) {
    throw clientError("BAD_USER_INPUT", "methods must not be empty");
  }
  if (methods.length > limits.maxMethods) {
    throw clientError(
      "BAD_USER_INPUT",
      `Too many methods: ${methods.length}, the limit is ${limits.maxMethods}`,
      { limit: limits.maxMethods },
    );
  }
  const options = checkOptions(args.options, methods);
  const classIndex = checkClass(model, args);
  const plan = planAnalysis(model, registry, {
    methods,
    layer: args.layer,
    classIndex,
    params: options,
  });
  const outputs = args.outputs ?? {};
  return {
    model: model.name,
    methods: plan.methods,
    params: plan.params,
    layer: plan.layer,
    classIndex: plan.classIndex,
    render: checkRender(args.render),
    outputs: {
      maps: outputs.maps ?? true,
      overlay: outputs.overlay ?? true,
      heatmap: outputs.heatmap ?? true,
    },
  };
}

/**
 * Checks `top` of a prediction: 1 to the number of classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const labels = ["tench", "goldfish", "great_white_shark"];
 * assert.equal(checkTop(labels, 2), 2);
 * assert.throws(() => checkTop(labels, 5), { code: "BAD_USER_INPUT" });
 * ```
 */
export function checkTop(labels: readonly string[], top: number): number {
  if (!Number.isInteger(top) || top < 1 || top > labels.length) {
    throw clientError(
      "BAD_USER_INPUT",
      `top must be from 1 to ${labels.length}, got ${top}`,
    );
  }
  return top;
}
