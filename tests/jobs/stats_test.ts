import assert from "node:assert/strict";
import {
  addFinished,
  bucketOf,
  DURATION_BOUNDS,
  durationsOf,
  emptyTotals,
  totalsFields,
  totalsFromHash,
} from "../../jobs/_stats.ts";

Deno.test("bucketOf puts a bound in its own bucket and the rest above the last", () => {
  assert.equal(bucketOf(0), 0);
  assert.equal(bucketOf(1), 0);
  assert.equal(bucketOf(1.01), 1);
  assert.equal(bucketOf(900), DURATION_BOUNDS.length - 1);
  assert.equal(bucketOf(901), DURATION_BOUNDS.length);
});

Deno.test("only succeeded jobs count in the durations, once per distinct label", () => {
  const totals = emptyTotals();
  addFinished(totals, {
    state: "succeeded",
    labels: ["gradcam", "gradcam", "occlusion"],
    seconds: 3,
  });
  addFinished(totals, { state: "failed", labels: ["gradcam"], seconds: 100 });
  addFinished(totals, { state: "cancelled", labels: [], seconds: 0 });
  assert.deepEqual(totals.finished, { succeeded: 1, failed: 1, cancelled: 1 });
  const durations = durationsOf(totals);
  assert.deepEqual(Object.keys(durations).sort(), ["gradcam", "occlusion"]);
  assert.equal(durations.gradcam.counts[bucketOf(3)], 1);
  assert.equal(durations.gradcam.counts.reduce((a, b) => a + b), 1);
  assert.equal(durations.gradcam.sum, 3);
});

Deno.test("totals written as Redis hash fields read back the same, labels with colons too", () => {
  const expected = emptyTotals();
  const hash: Record<string, string> = {};
  const add = (state: "succeeded" | "failed", labels: string[], s: number) => {
    addFinished(expected, { state, labels, seconds: s });
    const { counts, sums } = totalsFields({ state, labels, seconds: s });
    for (const f of counts) hash[f] = String(Number(hash[f] ?? 0) + 1);
    for (const f of sums) hash[f] = String(Number(hash[f] ?? 0) + s);
  };
  add("succeeded", ["a:b", "c"], 0.5);
  add("succeeded", ["a:b"], 42);
  add("failed", ["c"], 1);
  assert.deepEqual(totalsFromHash(hash), expected);
});
