/**
 * Class labels to indices, forgiving about case and `_` versus space.
 *
 * @module
 */
import { clientError } from "../lib/errors.ts";

function normalize(label: string): string {
  return label.trim().toLowerCase().replace(/[\s_]+/g, " ");
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(
        row[j] + 1,
        row[j - 1] + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

/**
 * The labels closest to `name` by edit distance (after normalising case and
 * separators), nearest first.
 *
 * @example
 * ```ts
 * closestLabels(["tabby", "tiger_cat", "lynx"], "tabbi", 2); // ["tabby", "lynx"]
 * ```
 */
export function closestLabels(
  labels: readonly string[],
  name: string,
  count = 5,
): string[] {
  const wanted = normalize(name);
  return labels
    .map((label) => ({ label, d: editDistance(wanted, normalize(label)) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, count)
    .map((c) => c.label);
}

/**
 * The class index of a label. Case, and underscores versus spaces, do not
 * matter (`"egyptian cat"` finds `Egyptian_cat`); when several labels match
 * (`crane` the bird and the machine), only an exact match decides. Throws
 * `BAD_USER_INPUT` naming the closest labels, or the candidates' indices.
 *
 * @example
 * ```ts
 * resolveClassName(["tench", "goldfish"], "Goldfish"); // 1
 * ```
 */
export function resolveClassName(
  labels: readonly string[],
  name: string,
): number {
  const wanted = normalize(name);
  const matches: number[] = [];
  labels.forEach((label, i) => {
    if (normalize(label) === wanted) matches.push(i);
  });
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    const exact = matches.filter((i) => labels[i] === name.trim());
    if (exact.length === 1) return exact[0];
    throw clientError(
      "BAD_USER_INPUT",
      `Class name "${name}" is ambiguous: use classIndex ${
        matches.map((i) => `${i} (${labels[i]})`).join(" or ")
      }`,
      { candidates: matches },
    );
  }
  const closest = closestLabels(labels, name);
  throw clientError(
    "BAD_USER_INPUT",
    `Unknown class name "${name}": closest labels are ${
      closest.map((l) => `"${l}"`).join(", ")
    }`,
    { closest },
  );
}
