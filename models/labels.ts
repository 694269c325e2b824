/**
 * Class labels: reading them from JSON, and class names to indices,
 * forgiving about case and `_` versus space.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";

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
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   closestLabels(["tabby", "tiger_cat", "lynx"], "tabbi", { count: 2 }),
 *   ["tabby", "lynx"],
 * );
 * ```
 */
export function closestLabels(
  labels: readonly string[],
  name: string,
  options: {
    /** Most labels to return; @default 5 */
    count?: number;
  } = {},
): string[] {
  const count = options.count ?? 5;
  const wanted = normalize(name);
  return labels
    .map((label) => ({ label, d: editDistance(wanted, normalize(label)) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, count)
    .map((c) => c.label);
}

/**
 * Checks a class index against the labels: an integer from 0 to the number
 * of classes − 1; throws `BAD_USER_INPUT` saying the range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * checkClassIndex(["cat", "dog"], 1); // fine
 * assert.throws(() => checkClassIndex(["cat", "dog"], 2), {
 *   code: "BAD_USER_INPUT",
 *   message: "classIndex must be an integer from 0 to 1, got 2",
 * });
 * ```
 */
export function checkClassIndex(
  labels: readonly string[],
  classIndex: number,
): void {
  if (
    !Number.isInteger(classIndex) || classIndex < 0 ||
    classIndex >= labels.length
  ) {
    throw clientError(
      "BAD_USER_INPUT",
      `classIndex must be an integer from 0 to ${
        labels.length - 1
      }, got ${classIndex}`,
    );
  }
}

/**
 * The class index of a label. Case, and underscores versus spaces, do not
 * matter (`"egyptian cat"` finds `Egyptian_cat`); when several labels match
 * (`crane` the bird and the machine), only an exact match decides. Throws
 * `BAD_USER_INPUT` naming the closest labels, or the candidates' indices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(resolveClassName(["tench", "goldfish"], "Goldfish"), 1);
 * assert.equal(resolveClassName(["tabby", "Egyptian_cat"], "egyptian cat"), 1);
 * assert.throws(() => resolveClassName(["tench", "goldfish"], "goldfisj"), {
 *   code: "BAD_USER_INPUT",
 *   message: /^Unknown class name "goldfisj": closest labels are "goldfish"/,
 * });
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

/**
 * Reads class labels: JSON (an array, or an object keyed by index) or
 * plain text, one label per line (blank lines at the end ignored).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(readLabels("tench\ngoldfish\n"), ["tench", "goldfish"]);
 * assert.deepEqual(readLabels('["tench", "goldfish"]'), ["tench", "goldfish"]); // JSON too
 * ```
 */
export function readLabels(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    return parseLabels(trimmed);
  }
  return text.replace(/\s+$/, "").split(/\r?\n/).map((l) => l.trim());
}

/**
 * Reads class labels from JSON: an array, or an object keyed by index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseLabels('{"0": "tench", "1": "goldfish"}'), ["tench", "goldfish"]);
 * assert.deepEqual(parseLabels('{"1": "goldfish"}'), ["class_0", "goldfish"]); // gaps named
 * ```
 */
export function parseLabels(text: string): string[] {
  const json = JSON.parse(text);
  if (Array.isArray(json)) return json.map(String);
  if (typeof json === "object" && json !== null) {
    const labels: string[] = [];
    for (const [key, value] of Object.entries(json)) {
      labels[Number(key)] = String(value);
    }
    return Array.from(labels, (l, i) => l ?? `class_${i}`);
  }
  throw new Error("Labels must be a JSON array or an object keyed by index");
}
