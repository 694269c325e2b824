import assert from "node:assert/strict";
import {
  addSamples,
  addSummary,
  figure,
  FIGURES,
  newResults,
} from "../../../tools/bench/results.ts";
import { judge, TARGETS } from "../../../tools/bench/targets.ts";

const row = (results: ReturnType<typeof newResults>, text: RegExp) =>
  judge(results).find((r) => text.test(r.target.text))!;

Deno.test("a ratio target compares medians; at the limit it is met", () => {
  const results = newResults();
  addSamples(results, "forward.lumen-ort", [23, 1000, 23]);
  addSamples(results, "forward.bare-ort", [20, 20, 1]);
  const met = row(results, /^Lumen forward/);
  assert.equal(met.status, "met");
  assert.equal(met.measure, 23 / 20);
  addSamples(results, "forward.lumen-ort", [30, 30, 30]);
  assert.equal(row(results, /^Lumen forward/).status, "not met");
});

Deno.test("absolute, difference and at-least targets", () => {
  const results = newResults();
  addSamples(results, "render.overlay", [5.1]);
  addSamples(results, "memory.wasm", [600]);
  addSamples(results, "memory.both", [749]);
  addSamples(results, "http.throughput.1", [10]);
  addSamples(results, "http.throughput.4", [9.4]);
  assert.equal(row(results, /^overlay/).status, "not met");
  const memory = row(results, /^peak RSS/);
  assert.equal(memory.measure, 149);
  assert.equal(memory.status, "met");
  assert.equal(row(results, /throughput/).status, "not met");
});

Deno.test("a target without its figure or yardstick is not measured, with why", () => {
  const results = newResults();
  addSamples(results, "http.gradcam", [100]);
  results.missing.set("torch.e2e", "install python3-torch");
  const torch = row(results, /PyTorch/);
  assert.equal(torch.status, "not measured");
  assert.equal(torch.why, "install python3-torch");
  assert.equal(torch.value, 100);
  const rows = judge(newResults());
  assert.equal(rows.length, TARGETS.length);
  assert.ok(rows.every((r) => r.status === "not measured"));
});

Deno.test("a peer's summaries pool: median of its medians, its own extremes and n", () => {
  const results = newResults();
  addSummary(results, "torch.e2e", { median: 140, min: 120, max: 160, n: 10 });
  addSummary(results, "torch.e2e", { median: 150, min: 125, max: 190, n: 10 });
  assert.deepEqual(figure(results, "torch.e2e"), {
    median: 145,
    min: 120,
    max: 190,
    n: 20,
  });
  assert.throws(
    () => addSamples(results, "nope", [1]),
    /Unknown figure "nope"/,
  );
});

Deno.test("every target names figures the bench knows", () => {
  for (const t of TARGETS) {
    assert.ok(t.figure in FIGURES, t.figure);
    if (t.yardstick) assert.ok(t.yardstick in FIGURES, t.yardstick);
  }
});
