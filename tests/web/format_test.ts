import assert from "node:assert/strict";
import {
  formatMs,
  formatPercent,
  formatTimeLeft,
  timingsLine,
} from "../../web/client/format.ts";

Deno.test("formatMs: milliseconds, then seconds", () => {
  assert.equal(formatMs(0.4), "0 ms");
  assert.equal(formatMs(999.4), "999 ms");
  assert.equal(formatMs(1250), "1.25 s");
});

Deno.test("formatPercent: more decimals for small probabilities", () => {
  assert.equal(formatPercent(0.6312), "63.1%");
  assert.equal(formatPercent(0.0319), "3.19%");
});

Deno.test("formatTimeLeft: seconds, then minutes", () => {
  assert.equal(formatTimeLeft(0.4), "less than a second left");
  assert.equal(formatTimeLeft(12.4), "about 12 s left");
  assert.equal(formatTimeLeft(150), "about 3 min left");
});

Deno.test("timingsLine: only what is known", () => {
  assert.equal(
    timingsLine({ backend: null, timings: null, firstResultMs: null }),
    "",
  );
  assert.equal(
    timingsLine({ backend: "wasm", timings: null, firstResultMs: null }),
    "backend wasm",
  );
  assert.equal(
    timingsLine({
      backend: "onnxruntime",
      timings: { decode: 3.2, forward: 1250 },
      firstResultMs: 240,
    }),
    "backend onnxruntime · decode 3 ms · forward 1.25 s · first overlay after 240 ms",
  );
});
