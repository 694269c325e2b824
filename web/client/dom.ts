/// <reference lib="dom" />
/**
 * Small DOM helpers: build an element, find one that must exist, bring one
 * into view.
 *
 * @module
 */

/** Attributes of {@linkcode h}: strings set as attributes, listeners as `on…`. */
export type Attributes = Record<
  string,
  string | number | boolean | null | undefined | ((event: Event) => void)
>;

/**
 * Creates an element. `false`, null and undefined attributes are left out,
 * `true` sets an empty attribute, functions under `on…` names become event
 * listeners; strings among the children become text nodes.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * h("button", { type: "button", onclick: () => alert("hi") }, "Say hi");
 * ```
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child);
    }
  }
  return element;
}

/**
 * The element with this id; throws when the page lacks it (a bug).
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * const input = byId("file", HTMLInputElement);
 * ```
 */
export function byId<T extends HTMLElement>(
  id: string,
  type: { new (): T; prototype: T },
): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`The page has no ${type.name} #${id}`);
  }
  return element;
}

/**
 * Scrolls `element` to the top of the screen and focuses it (for screen
 * readers), unless it already starts in the upper half: on a phone the
 * results start far below the settings, and choosing a photo must visibly
 * do something. Smooth unless the person asks for reduced motion.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * bringIntoView(byId("results", HTMLElement));
 * ```
 */
export function bringIntoView(element: HTMLElement): void {
  if (element.getBoundingClientRect().top < globalThis.innerHeight / 2) {
    return;
  }
  const still = globalThis.matchMedia("(prefers-reduced-motion: reduce)");
  element.focus({ preventScroll: true });
  element.scrollIntoView({
    block: "start",
    behavior: still.matches ? "auto" : "smooth",
  });
}
