/// <reference lib="dom" />
/**
 * Problems of the whole page (the image, the connection) as the page shows
 * them above the results: the headline, the server's words, the code, and a
 * button to try again when that may help.
 *
 * @module
 */
import { h } from "./dom.ts";
import type { Problem } from "./messages.ts";

/**
 * The nodes showing `problems`; with `retry`, a "Try again" button after
 * them.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM).
 * container.replaceChildren(...problemNodes(problems, () => explain()));
 * ```
 */
export function problemNodes(
  problems: readonly Problem[],
  retry: (() => void) | null,
): HTMLElement[] {
  return [
    ...problems.map((p) =>
      h(
        "div",
        { class: "problem", "data-code": p.code },
        h("strong", {}, p.title),
        p.detail ? h("span", { class: "detail" }, ` ${p.detail}`) : null,
        h("span", { class: "code" }, ` (${p.code})`),
      )
    ),
    ...(retry
      ? [h("button", { type: "button", onclick: retry }, "Try again")]
      : []),
  ];
}
