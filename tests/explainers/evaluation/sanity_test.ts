import assert from "node:assert/strict";
import { spearman } from "../../../explainers/_maths.ts";

Deno.test("spearman is the Pearson correlation of average ranks", () => {
  assert.equal(spearman([1, 2, 3], [10, 20, 15]), 0.5);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // Ties: ranks (0.5, 0.5, 2) and (0, 1, 2).
  const r = spearman([0, 0, 1], [1, 2, 3]);
  assert.ok(Math.abs(r - 1.5 / Math.sqrt(1.5 * 2)) < 1e-12);
  assert.equal(spearman([2, 2, 2], [1, 2, 3]), 0);
  assert.equal(spearman([2, 2], [5, 5]), 1);
  assert.throws(() => spearman([1], [1, 2]), /Lengths differ: 1 and 2/);
});
