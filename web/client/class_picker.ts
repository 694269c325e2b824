/// <reference lib="dom" />
/**
 * The class to explain: each image's top-1 by default, or one the person
 * picks from the top-5 or finds by searching the model's labels.
 *
 * @module
 */
import { h } from "./dom.ts";
import { searchLabels } from "./labels.ts";

/** The elements of the class picker. */
export interface ClassPickerElements {
  /** Says which class is explained. */
  choice: HTMLElement;
  search: HTMLInputElement;
  results: HTMLUListElement;
  /** Back to the top-1. */
  reset: HTMLButtonElement;
}

/** Options of {@linkcode createClassPicker}. */
export interface ClassPickerOptions {
  /** The current model's labels. */
  labels(): readonly string[];
  /** The person chose a class (null: back to the top-1). */
  onChoose(classIndex: number | null): void;
}

/** The class picker. */
export interface ClassPicker {
  /** The chosen class; null for each image's top-1. */
  readonly chosen: number | null;
  /** Chooses a class (null: the top-1) as the person would. */
  choose(classIndex: number | null): void;
  /** Back to the top-1 with the search cleared, without `onChoose` (a new image or model). */
  clear(): void;
}

/**
 * Wires the class picker.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * const classes = createClassPicker(elements, { labels: () => model.labels, onChoose: explain });
 * classes.choose(281);
 * ```
 */
export function createClassPicker(
  elements: ClassPickerElements,
  options: ClassPickerOptions,
): ClassPicker {
  const { choice, search, results, reset } = elements;
  let chosen: number | null = null;
  const render = () => {
    const labels = options.labels();
    choice.textContent = chosen === null
      ? "Explaining each image's top-1 class."
      : `Explaining ${labels[chosen] ?? ""} (class ${chosen}).`;
    reset.hidden = chosen === null;
  };
  const choose = (classIndex: number | null) => {
    chosen = classIndex;
    render();
    options.onChoose(classIndex);
  };
  const renderSearch = () => {
    const matches = searchLabels(options.labels(), search.value);
    results.replaceChildren(...matches.map((m) =>
      h(
        "li",
        {},
        h("button", {
          type: "button",
          onclick: () => {
            search.value = "";
            results.replaceChildren();
            choose(m.classIndex);
          },
        }, `${m.label} (${m.classIndex})`),
      )
    ));
  };
  search.addEventListener("input", renderSearch);
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    results.querySelector("button")?.click();
  });
  reset.addEventListener("click", () => choose(null));
  render();
  return {
    get chosen() {
      return chosen;
    },
    choose,
    clear() {
      chosen = null;
      search.value = "";
      results.replaceChildren();
      render();
    },
  };
}
