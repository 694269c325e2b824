/// <reference lib="dom" />
/**
 * The top-5 as buttons: each explains its class when pressed (pressed
 * again, back to the top-1), with a bar for its probability.
 *
 * @module
 */
import type { Prediction } from "./api.ts";
import { h } from "./dom.ts";
import { formatPercent } from "./format.ts";
import { displayLabel } from "./labels.ts";

/** A probability bar (sized through CSSOM: the CSP forbids style attributes). */
function bar(probability: number): HTMLElement {
  const element = h("span", { class: "bar", "aria-hidden": "true" });
  element.style.width = `${Math.max(1, probability * 100)}%`;
  return element;
}

/**
 * One list item per prediction; `choice.choose` gets the class pressed, or
 * null when the chosen one is pressed again.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * list.replaceChildren(...predictionItems(predictions, { chosen: null, choose: chooseClass }));
 * ```
 */
export function predictionItems(
  predictions: readonly Prediction[],
  choice: {
    /** The class explained now; null: the top-1. */
    chosen: number | null;
    /** Told the class pressed, or null when the chosen one is pressed again. */
    choose: (classIndex: number | null) => void;
  },
): HTMLLIElement[] {
  const { chosen: chosenClass, choose } = choice;
  return predictions.map((p) => {
    const chosen = chosenClass === p.classIndex;
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: chosen ? "prediction chosen" : "prediction",
          "aria-pressed": chosen ? "true" : "false",
          title: `Explain ${displayLabel(p.label)}`,
          onclick: () => choose(chosen ? null : p.classIndex),
        },
        h("span", { class: "label" }, p.label),
        h("span", { class: "probability" }, formatPercent(p.probability)),
        bar(p.probability),
      ),
    );
  });
}
