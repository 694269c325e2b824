import assert from "node:assert/strict";
import { displayLabel, searchLabels } from "../../web/client/labels.ts";

const LABELS = [
  "tabby",
  "tiger_cat",
  "Persian_cat",
  "Egyptian_cat",
  "crane",
  "crane",
];

Deno.test("searchLabels: exact, then prefix, then word, then substring", () => {
  const found = searchLabels([...LABELS, "cat_food", "bobcat"], "cat");
  assert.deepEqual(found.map((m) => m.label), [
    "cat_food",
    "tiger_cat",
    "Persian_cat",
    "Egyptian_cat",
    "bobcat",
  ]);
});

Deno.test("searchLabels: case, spaces and underscores do not matter", () => {
  assert.deepEqual(searchLabels(LABELS, "  EGYPTIAN cat "), [
    { classIndex: 3, label: "Egyptian_cat" },
  ]);
});

Deno.test("searchLabels: a number finds that class first", () => {
  assert.deepEqual(searchLabels(LABELS, "1")[0], {
    classIndex: 1,
    label: "tiger_cat",
  });
  assert.deepEqual(searchLabels(LABELS, "99"), []);
});

Deno.test("searchLabels: duplicate labels are told apart by index", () => {
  assert.deepEqual(searchLabels(LABELS, "crane").map((m) => m.classIndex), [
    4,
    5,
  ]);
});

Deno.test("searchLabels: empty query and limit", () => {
  assert.deepEqual(searchLabels(LABELS, " "), []);
  assert.equal(searchLabels(LABELS, "a", { limit: 2 }).length, 2);
});

Deno.test("displayLabel: underscores become spaces", () => {
  assert.equal(displayLabel("Egyptian_cat"), "Egyptian cat");
});
