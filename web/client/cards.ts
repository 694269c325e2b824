/// <reference lib="dom" />
/**
 * One card per method: the overlay (drawn here from the map, see
 * `overlay.ts`), what it explains, the map value under the pointer (or the
 * keyboard cursor), timings and downloads; or, while a method runs, its
 * progress; or why it failed.
 *
 * @module
 */
import type { RgbImage } from "../../lib/image.ts";
import { encodePng } from "../../lib/render.ts";
import type { Explanation } from "./api.ts";
import { h } from "./dom.ts";
import {
  formatMs as ms,
  formatPercent as percent,
  formatTimeLeft,
} from "./format.ts";
import { displayLabel } from "./labels.ts";
import {
  cellAt,
  downloadName,
  type MapCell,
  mapJson,
  moveCell,
} from "./map_probe.ts";
import { isEmptyMap, overlayRenderer } from "./overlay.ts";
import { drawRgb } from "./pixels.ts";
import type { ProgressState } from "./progress.ts";

/**
 * The card of a method still being computed.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * overlays.append(pendingCard("scorecam", "Computing…"));
 * ```
 */
export function pendingCard(method: string, text: string): HTMLElement {
  return h(
    "article",
    { class: "card pending", "data-method": method, "aria-busy": "true" },
    h("h3", {}, method),
    h("div", { class: "placeholder", "aria-hidden": "true" }),
    h("p", { class: "note" }, text),
  );
}

/** A slow method's card while it waits or runs. */
export interface ProgressCard {
  card: HTMLElement;
  /** Shows a wait (a sentence) or progress (fraction and time left). */
  show(state: string | ProgressState): void;
}

/**
 * The card of a slow method: a sentence while it waits for its turn, then
 * a progress bar with the fraction done and an estimate of the time left.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * const { card, show } = progressCard("scorecam");
 * show({ fraction: 0.25, secondsLeft: 12 });
 * ```
 */
export function progressCard(method: string): ProgressCard {
  const bar = h("progress", {
    max: 1,
    value: 0,
    "aria-label": `${method} progress`,
  });
  // Read on demand: announcing every step would drown everything else.
  const note = h("p", { class: "note", "aria-live": "off" });
  const card = h(
    "article",
    { class: "card pending slow", "data-method": method, "aria-busy": "true" },
    h("h3", {}, method, " ", h("span", { class: "badge" }, "slow")),
    h("div", { class: "placeholder", "aria-hidden": "true" }),
    bar,
    note,
  );
  return {
    card,
    show(state) {
      if (typeof state === "string") {
        bar.removeAttribute("value"); // indeterminate
        card.dataset.state = "waiting";
        note.textContent = state;
        return;
      }
      card.dataset.state = "running";
      bar.value = state.fraction;
      note.textContent = `${percent(state.fraction)} done · ${
        state.secondsLeft === null
          ? "estimating the time left…"
          : formatTimeLeft(state.secondsLeft)
      }`;
    },
  };
}

/** What a card draws on and says. */
export interface CardContext {
  /** The uploaded file's name. */
  imageName: string;
  /** The image's pixels, or null when the browser could not decode it. */
  image: RgbImage | null;
  /** The colour map and α to draw with. */
  colormap: string;
  alpha: number;
  /** What to suggest when the map is all zero, e.g. "a later layer such as layer4". */
  emptyHint: string;
  /** The layer as the picker names it. @default the layer's own name */
  layerName?: string;
}

/** A card of a computed explanation. */
export interface ExplanationCard {
  card: HTMLElement;
  /** Redraws the overlay with another colour map or α (no request). */
  restyle(colormap: string, alpha: number): void;
  /** Releases the map download's object URL. */
  dispose(): void;
}

function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  h("a", { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The card of a computed explanation: the overlay drawn from the map over
 * the image, or, for an all-zero map, a sentence saying why there is
 * nothing to draw and what to try.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * const { card, restyle } = explanationCard(explanation, context);
 * overlays.append(card);
 * restyle("viridis", 0.5);
 * ```
 */
export function explanationCard(
  explanation: Explanation,
  context: CardContext,
): ExplanationCard {
  const { map, method } = explanation;
  const label = explanation.label;
  const layer = context.layerName ?? explanation.layer;
  const about = h("p", { class: "about" });
  const describe = (colormap: string, alpha: number) => {
    about.textContent = `${label} (class ${explanation.classIndex}, ${
      percent(explanation.probability)
    }) · layer ${layer} · ${colormap}, α ${alpha}`;
  };
  describe(context.colormap, context.alpha);
  const json = mapJson(map, {
    method,
    layer: explanation.layer,
    classIndex: explanation.classIndex,
    label: explanation.label,
    probability: explanation.probability,
    image: context.imageName,
  });
  const jsonUrl = URL.createObjectURL(
    new Blob([json], { type: "application/json" }),
  );
  const links = h(
    "p",
    { class: "downloads" },
    h("a", {
      href: jsonUrl,
      download: downloadName(context.imageName, {
        parts: [method, "map"],
        extension: "json",
      }),
    }, "Map JSON"),
  );
  const { image } = context;
  const empty = isEmptyMap(map);
  let view: HTMLElement[];
  let restyle = describe;
  if (empty || !image) {
    view = [h(
      "p",
      { class: "note empty" },
      empty
        ? `Nothing to show: at layer ${layer}, ${method} finds ` +
          `nothing that speaks for ${displayLabel(label)} (the map is all ` +
          `zero). Try ${context.emptyHint}.`
        : "Your browser could not read this image's pixels, so the map " +
          "cannot be drawn over it: download the map instead.",
    )];
  } else {
    const renderer = overlayRenderer(image, map);
    const canvas = h("canvas", {
      class: "overlay",
      role: "img",
      "aria-label": `${method} heatmap over ${context.imageName}, explaining ` +
        `${displayLabel(label)} at layer ${layer}`,
    });
    let style = { colormap: context.colormap, alpha: context.alpha };
    const draw = () => {
      const data = renderer.render(style.colormap, style.alpha);
      drawRgb(canvas, { width: image.width, height: image.height, data });
      canvas.dataset.style = `${style.colormap} ${style.alpha}`;
    };
    draw();
    restyle = (colormap, alpha) => {
      if (colormap === style.colormap && alpha === style.alpha) return;
      style = { colormap, alpha };
      describe(colormap, alpha);
      draw();
    };
    const value = h("p", { class: "value", "aria-live": "polite" }, VALUE_HINT);
    view = [overlayProbe(canvas, explanation, value), value];
    links.prepend(h("button", {
      type: "button",
      class: "link",
      onclick: async () => {
        const data = renderer.render(style.colormap, style.alpha);
        const png = await encodePng({
          width: image.width,
          height: image.height,
          data,
        });
        download(
          downloadName(context.imageName, {
            parts: [method, "overlay"],
            extension: "png",
          }),
          new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" }),
        );
      },
    }, "Overlay PNG"));
  }
  const { timings } = explanation;
  const card = h(
    "article",
    {
      class: empty ? "card empty" : "card",
      "data-method": method,
      "aria-busy": "false",
    },
    h("h3", {}, method),
    about,
    ...view,
    h("p", { class: "timings" }, `explain ${ms(timings.explain)}`),
    links,
  );
  return {
    card,
    restyle: (colormap, alpha) => restyle(colormap, alpha),
    dispose: () => URL.revokeObjectURL(jsonUrl),
  };
}

const VALUE_HINT =
  "Point at the overlay, or focus it and use the arrow keys, to read the map.";

/** The overlay with a cursor that reads the map, by pointer or keyboard. */
function overlayProbe(
  overlay: HTMLElement,
  explanation: Explanation,
  valueText: HTMLElement,
): HTMLElement {
  const { map, method } = explanation;
  const cursor = h("div", { class: "cursor", hidden: true });
  let current: MapCell | null = null;
  const show = (cell: MapCell) => {
    current = cell;
    valueText.textContent = `Map value ${cell.value.toFixed(3)} at cell ` +
      `(${cell.x}, ${cell.y}) of ${map.width}×${map.height}`;
    cursor.hidden = false;
    cursor.style.left = `${(cell.x / map.width) * 100}%`;
    cursor.style.top = `${(cell.y / map.height) * 100}%`;
    cursor.style.width = `${100 / map.width}%`;
    cursor.style.height = `${100 / map.height}%`;
  };
  const probe: HTMLElement = h(
    "div",
    {
      class: "probe",
      tabindex: 0,
      role: "group",
      "aria-label": `${method} map, ${map.width} by ${map.height} cells: ` +
        "arrow keys move the cursor",
      onpointermove: (event) => {
        const e = event as PointerEvent;
        const rect = overlay.getBoundingClientRect();
        show(cellAt(map, {
          x: e.clientX - rect.left,
          y: e.clientY - rect.top,
          width: rect.width,
          height: rect.height,
        }));
      },
      onpointerleave: () => {
        if (document.activeElement !== probe) cursor.hidden = true;
      },
      onfocus: () =>
        show(current ?? moveCell(map, { from: { x: 0, y: 0 }, key: "" })),
      onblur: () => cursor.hidden = true,
      onkeydown: (event) => {
        const e = event as KeyboardEvent;
        if (!e.key.startsWith("Arrow")) return;
        e.preventDefault();
        show(moveCell(map, { from: current ?? { x: 0, y: 0 }, key: e.key }));
      },
    },
    overlay,
    cursor,
  );
  return probe;
}

/**
 * The card of a method that failed in this request, with a button to try
 * again when that may help.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * overlays.append(failedCard("scorecam", "The server is busy", { retry }));
 * ```
 */
export function failedCard(
  method: string,
  text: string,
  options: {
    /** Called by a "Try again" button; @default none (no button) */
    retry?: (() => void) | undefined;
  } = {},
): HTMLElement {
  const { retry } = options;
  return h(
    "article",
    { class: "card failed", "data-method": method, "aria-busy": "false" },
    h("h3", {}, method),
    h("p", { class: "note" }, text),
    retry ? h("button", { type: "button", onclick: retry }, "Try again") : null,
  );
}
