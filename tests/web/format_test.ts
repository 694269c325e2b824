import assert from "node:assert/strict";
import {
  formatMs,
  formatPercent,
  formatTimeLeft,
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
