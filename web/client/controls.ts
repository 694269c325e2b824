/// <reference lib="dom" />
/**
 * The settings controls filled from what the server offers: the model
 * picker (only when there is a choice), the method picker (slow methods
 * marked as such up front), the layer picker (grouped, familiar names
 * first) and the colour map's legend.
 *
 * @module
 */
import { colormapLut } from "../../lib/colormap.ts";
import type { ExplainerInfo, ModelInfo, ModelSummary } from "./api.ts";
import { h } from "./dom.ts";
import { describeLayer, familiarName, layerGroups } from "./layers.ts";

/**
 * Lists the models in the model picker, `current` selected; the picker's
 * field stays hidden when the server offers a single model (the status line
 * names it).
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * fillModels({ select, field }, { models: info.models, current: info.model.name });
 * ```
 */
export function fillModels(
  picker: {
    /** The model picker. */
    select: HTMLSelectElement;
    /** The picker's field, hidden when there is no choice. */
    field: HTMLElement;
  },
  offer: {
    /** The models the server offers. */
    models: readonly ModelSummary[];
    /** The name of the model in use. */
    current: string;
  },
): void {
  const { select, field } = picker;
  const { models, current } = offer;
  select.replaceChildren(
    ...models.map((m) =>
      h(
        "option",
        { value: m.name, selected: m.name === current },
        m.isDefault ? `${m.name} (default)` : m.name,
      )
    ),
  );
  select.value = current;
  field.hidden = models.length < 2;
}

/**
 * One line about a model for under its picker: engine, classes, input size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // `info.model`, as the page's serverInfo() returns it:
 * const model = {
 *   name: "resnet50", backend: "onnxruntime", adapter: null, inputSize: 224,
 *   defaultLayer: "activation_48", layers: [],
 *   labels: Array.from({ length: 1000 }, (_, i) => `class_${i}`),
 * };
 * assert.equal(describeModel(model), "onnxruntime · 1000 classes · input 224×224");
 * ```
 */
export function describeModel(model: ModelInfo): string {
  const engine = model.adapter
    ? `${model.backend} (${model.adapter})`
    : model.backend;
  return `${engine} · ${model.labels.length} classes · input ` +
    `${model.inputSize}×${model.inputSize}`;
}

/**
 * Lists the methods as checkboxes, `preferred` checked; a slow method's
 * label carries a "slow" badge and its description says how it runs.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * fillMethods(fieldset, info.explainers, { preferred: "gradcam" });
 * ```
 */
export function fillMethods(
  fieldset: HTMLFieldSetElement,
  explainers: readonly ExplainerInfo[],
  options: {
    /** The method checked at first; @default none */
    preferred?: string | undefined;
  } = {},
): void {
  const { preferred } = options;
  fieldset.querySelectorAll(".method").forEach((node) => node.remove());
  for (const explainer of explainers) {
    const id = `method-${explainer.name}`;
    fieldset.append(h(
      "div",
      { class: explainer.slow ? "method slow" : "method" },
      h("input", {
        type: "checkbox",
        id,
        name: "method",
        value: explainer.name,
        checked: explainer.name === preferred,
        "aria-describedby": `${id}-about`,
      }),
      h(
        "label",
        { for: id },
        explainer.name,
        explainer.slow ? " " : null,
        explainer.slow ? h("span", { class: "badge" }, "slow") : null,
      ),
      h(
        "span",
        { id: `${id}-about`, class: "about" },
        explainer.description,
        // The descriptions end without a full stop.
        explainer.slow && !/[.!?]$/.test(explainer.description) ? "." : null,
        explainer.slow
          ? h(
            "span",
            { class: "slow-note" },
            " Slow: many model passes (seconds to minutes); runs as a job " +
              "on the server after the fast ones, with a progress bar.",
          )
          : null,
      ),
    ));
  }
}

/**
 * Fills the layer picker (stage outputs first, then each stage's layers,
 * own names beside modern ones), selects the default layer, and keeps
 * `about` describing the selected layer.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * fillLayers({ select, about: aboutLayer }, info.model);
 * ```
 */
export function fillLayers(
  picker: {
    /** The layer picker. */
    select: HTMLSelectElement;
    /** Kept describing the selected layer. */
    about: HTMLElement;
  },
  model: ModelInfo,
): void {
  const { select, about } = picker;
  select.replaceChildren(
    ...layerGroups(model.layers, model.defaultLayer).map((group) =>
      h(
        "optgroup",
        { label: group.label },
        ...group.options.map((o) => h("option", { value: o.value }, o.text)),
      )
    ),
  );
  select.value = model.defaultLayer;
  const describe = () => {
    const layer = model.layers.find((l) => l.name === select.value);
    about.textContent = layer ? describeLayer(layer, model.defaultLayer) : "";
  };
  select.onchange = describe;
  describe();
}

/**
 * What to suggest for an all-zero map at `layer`: a later layer (the
 * default one) unless it is already that layer, then another class or
 * method.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const layer4 = {
 *   name: "activation_48", aliases: ["conv5_block3_out", "layer4"],
 *   shape: [7, 7, 2048], kind: "Activation", explainable: true,
 * };
 * // `info.model`, as the page's serverInfo() returns it:
 * const model = {
 *   name: "resnet50", backend: "wasm", adapter: null, inputSize: 224,
 *   defaultLayer: "activation_48", layers: [layer4], labels: ["tench", "goldfish"],
 * };
 * assert.equal(emptyMapHint(model, "max_pooling2d"), "a later layer, such as layer4 (the default)");
 * assert.equal(emptyMapHint(model, "activation_48"), "another method or another class");
 * ```
 */
export function emptyMapHint(
  model: ModelInfo,
  layer: string,
): string {
  const fallback = model.layers.find((l) => l.name === model.defaultLayer);
  if (!fallback || layer === model.defaultLayer) {
    return "another method or another class";
  }
  return `a later layer, such as ${familiarName(fallback)} (the default)`;
}

/**
 * Draws the colour map's 256 colours on the legend canvas.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * drawLegend(canvas, "viridis");
 * ```
 */
export function drawLegend(canvas: HTMLCanvasElement, colormap: string): void {
  const context = canvas.getContext("2d");
  if (!context) return;
  const lut = colormapLut(colormap);
  const pixels = context.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    pixels.data.set([lut[3 * i], lut[3 * i + 1], lut[3 * i + 2], 255], 4 * i);
  }
  canvas.width = 256;
  canvas.height = 1;
  context.putImageData(pixels, 0, 0);
  canvas.setAttribute(
    "aria-label",
    `Colour scale of ${colormap}: map value 0 on the left, 1 on the right`,
  );
}
