import assert from "node:assert/strict";
import { benchReport, formatValue } from "../../../tools/bench/report.ts";
import { addSamples, newResults } from "../../../tools/bench/results.ts";
import { TARGETS } from "../../../tools/bench/targets.ts";

const info = {
  date: "2026-01-01",
  machine: {
    cpu: "Test CPU",
    family: 25,
    cores: 2,
    mhz: 2000,
    vectorFlags: ["avx2"],
    peakNativeGflops: 128,
    deno: "2.9.6",
  },
  loadStart: [0.5, 0.4, 0.3],
  loadEnd: [1.5, 0.6, 0.4],
  threads: 2,
  runs: 3,
  rounds: 1,
  slowRuns: 1,
  quick: true,
  versions: { "onnxruntime-node": "1.30.0" },
  notes: ["A note."],
};

Deno.test("the report has a row for every target, measured or not, and says why one is missing", () => {
  const results = newResults();
  addSamples(results, "forward.lumen-ort", [25, 26, 24]);
  addSamples(results, "forward.bare-ort", [20, 21, 22]);
  results.missing.set("slow.scorecam-full.ort", "--quick");
  const text = benchReport(results, info);
  for (const target of TARGETS) {
    assert.ok(text.includes(`| ${target.text} |`), target.text);
  }
  assert.match(
    text,
    /\| Lumen forward on onnxruntime ≤ 1\.15× bare ORT session \| 25\.0 \| 21\.0 \| 1\.19× \| ≤ 1\.15× \| \*\*not met\*\* \|/,
  );
  assert.match(text, /not measured \(--quick\)/);
  assert.match(
    text,
    /- Machine: Test CPU \(CPU family 25\), 2 cores at 2\.00 GHz/,
  );
  assert.match(text, /\*\*indicative only\*\*/);
  assert.match(
    text,
    /0\.50, 0\.40, 0\.30 at the start, 1\.50, 0\.60, 0\.40 at the end/,
  );
  assert.match(text, /- slow\.scorecam-full\.ort: --quick/);
  assert.match(
    text,
    /\| Lumen forward on onnxruntime \(`runtime.run`, logits\) \| 25\.0 \| 24\.0 \| 26\.0 \| 3 \| ms \|/,
  );
});

Deno.test("values: one decimal below a second, whole ms above", () => {
  assert.equal(formatValue(12.345, "ms"), "12.3");
  assert.equal(formatValue(45210.7, "ms"), "45211");
  assert.equal(formatValue(612.4, "MB"), "612");
  assert.equal(formatValue(6.666, "req/s"), "6.67");
});
