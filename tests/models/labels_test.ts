import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import { closestLabels, resolveClassName } from "../../models/labels.ts";

const LABELS = [
  "tabby",
  "tiger_cat",
  "Egyptian_cat",
  "crane",
  "Cardigan",
  "cardigan",
  "crane",
];

Deno.test("resolveClassName ignores case and _ versus space", () => {
  assert.equal(resolveClassName(LABELS, "Egyptian_cat"), 2);
  assert.equal(resolveClassName(LABELS, "egyptian cat"), 2);
  assert.equal(resolveClassName(LABELS, "  TIGER   CAT "), 1);
});

Deno.test("resolveClassName settles duplicates by exact match, else asks for an index", () => {
  assert.equal(resolveClassName(LABELS, "Cardigan"), 4);
  assert.equal(resolveClassName(LABELS, "cardigan"), 5);
  assert.throws(() => resolveClassName(LABELS, "CARDIGAN"), /ambiguous.*4.*5/);
  assert.throws(
    () => resolveClassName(LABELS, "crane"),
    (error: unknown) =>
      error instanceof ClientError &&
      error.code === "BAD_USER_INPUT" &&
      /classIndex 3 \(crane\) or 6 \(crane\)/.test(error.message),
  );
});

Deno.test("resolveClassName names the closest labels for unknown names", () => {
  assert.throws(
    () => resolveClassName(LABELS, "tabbi"),
    (error: unknown) =>
      error instanceof ClientError &&
      error.code === "BAD_USER_INPUT" &&
      (error.details.closest as string[])[0] === "tabby",
  );
  assert.deepEqual(closestLabels(LABELS, "tiger-cat", { count: 1 }), [
    "tiger_cat",
  ]);
});
