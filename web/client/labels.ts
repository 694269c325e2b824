/**
 * Searching the model's class labels as people type them: case, spaces and
 * underscores do not matter, whole-word and prefix matches come first, and a
 * number finds the class with that index. Pure: no DOM.
 *
 * @module
 */

/** One class: its index and label. */
export interface LabelMatch {
  classIndex: number;
  label: string;
}

function normalize(text: string): string {
  return text.trim().toLowerCase().replace(/[\s_]+/g, " ");
}

/**
 * Up to `options.limit` labels matching `query`, best first: exact, then prefix,
 * then word-prefix, then substring matches, each group in index order. An
 * all-digits query also finds the class of that index first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const labels = ["tabby", "tiger_cat", "Egyptian_cat"];
 * assert.deepEqual(searchLabels(labels, "cat"), [
 *   { classIndex: 1, label: "tiger_cat" },
 *   { classIndex: 2, label: "Egyptian_cat" },
 * ]);
 * assert.deepEqual(searchLabels(labels, "2"), [{ classIndex: 2, label: "Egyptian_cat" }]);
 * ```
 */
export function searchLabels(
  labels: readonly string[],
  query: string,
  options: {
    /** Most matches to return; @default 8 */
    limit?: number;
  } = {},
): LabelMatch[] {
  const limit = options.limit ?? 8;
  const wanted = normalize(query);
  if (wanted === "") return [];
  const groups: LabelMatch[][] = [[], [], [], [], []];
  if (/^\d+$/.test(wanted)) {
    const index = Number(wanted);
    if (index < labels.length) {
      groups[0].push({ classIndex: index, label: labels[index] });
    }
  }
  labels.forEach((label, classIndex) => {
    const text = normalize(label);
    let rank = -1;
    if (text === wanted) rank = 1;
    else if (text.startsWith(wanted)) rank = 2;
    else if (text.includes(` ${wanted}`)) rank = 3;
    else if (text.includes(wanted)) rank = 4;
    if (rank > 0) groups[rank].push({ classIndex, label });
  });
  return groups.flat().slice(0, Math.max(0, limit));
}

/**
 * A label as people read it: underscores become spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(displayLabel("Egyptian_cat"), "Egyptian cat");
 * ```
 */
export function displayLabel(label: string): string {
  return label.replaceAll("_", " ");
}
