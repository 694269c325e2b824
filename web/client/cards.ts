/// <reference lib="dom" />
/**
 * One card per method: the overlay, what it explains, the map value under
 * the pointer (or the keyboard cursor), timings and downloads.
 *
 * @module
 */
import type { Explanation } from "./api.ts";
import { h } from "./dom.ts";
import { formatMs as ms, formatPercent as percent } from "./format.ts";
import { displayLabel } from "./labels.ts";
import {
  cellAt,
  downloadName,
  type MapCell,
  mapJson,
  moveCell,
} from "./map_probe.ts";

/**
 * The card of a method still being computed.
 *
 * @example
 * ```ts
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

/** Where a card's downloads and alt text come from. */
export interface CardContext {
  /** The uploaded file's name. */
  imageName: string;
  /** The colour map and α the overlay was rendered with. */
  colormap: string;
  alpha: number;
}

/**
 * The card of a computed explanation. The returned function releases the
 * object URL of the map download.
 *
 * @example
 * ```ts
 * const { card, dispose } = explanationCard(explanation, context);
 * overlays.append(card);
 * ```
 */
export function explanationCard(
  explanation: Explanation,
  context: CardContext,
): { card: HTMLElement; dispose: () => void } {
  const { map, method } = explanation;
  const label = explanation.label;
  const valueText = h(
    "p",
    { class: "value", "aria-live": "polite" },
    "Point at the overlay, or focus it and use the arrow keys, to read the map.",
  );
  const cursor = h("div", { class: "cursor", hidden: true });
  const image = h("img", {
    class: "overlay",
    src: explanation.overlay,
    alt: `${method} heatmap over ${context.imageName}, explaining ` +
      `${displayLabel(label)} at layer ${explanation.layer}`,
    decoding: "async",
  });
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
  const probe = h(
    "div",
    {
      class: "probe",
      tabindex: 0,
      role: "group",
      "aria-label": `${method} map, ${map.width} by ${map.height} cells: ` +
        "arrow keys move the cursor",
      onpointermove: (event) => {
        const e = event as PointerEvent;
        const rect = image.getBoundingClientRect();
        show(cellAt(
          map,
          e.clientX - rect.left,
          e.clientY - rect.top,
          rect.width,
          rect.height,
        ));
      },
      onpointerleave: () => {
        if (document.activeElement !== probe) cursor.hidden = true;
      },
      onfocus: () => show(current ?? moveCell(map, { x: 0, y: 0 }, "")),
      onblur: () => cursor.hidden = true,
      onkeydown: (event) => {
        const e = event as KeyboardEvent;
        if (!e.key.startsWith("Arrow")) return;
        e.preventDefault();
        show(moveCell(map, current ?? { x: 0, y: 0 }, e.key));
      },
    },
    image,
    cursor,
  );
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
  const { timings } = explanation;
  const card = h(
    "article",
    { class: "card", "data-method": method, "aria-busy": "false" },
    h("h3", {}, method),
    h(
      "p",
      { class: "about" },
      `${label} (class ${explanation.classIndex}, ${
        percent(explanation.probability)
      }) · layer ${explanation.layer} · ${context.colormap}, α ${context.alpha}`,
    ),
    probe,
    valueText,
    h(
      "p",
      { class: "timings" },
      `explain ${ms(timings.explain)} · render ${ms(timings.render)}`,
    ),
    h(
      "p",
      { class: "downloads" },
      h("a", {
        href: explanation.overlay,
        download: downloadName(context.imageName, [method, "overlay"], "png"),
      }, "Overlay PNG"),
      h("a", {
        href: jsonUrl,
        download: downloadName(context.imageName, [method, "map"], "json"),
      }, "Map JSON"),
    ),
  );
  return { card, dispose: () => URL.revokeObjectURL(jsonUrl) };
}

/**
 * The card of a method that failed in this request.
 *
 * @example
 * ```ts
 * overlays.append(failedCard("scorecam", "The server is busy"));
 * ```
 */
export function failedCard(method: string, text: string): HTMLElement {
  return h(
    "article",
    { class: "card failed", "data-method": method, "aria-busy": "false" },
    h("h3", {}, method),
    h("p", { class: "note" }, text),
  );
}
