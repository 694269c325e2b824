import assert from "node:assert/strict";
import { formatMs, formatPercent } from "../../web/client/format.ts";

Deno.test("formatMs: milliseconds, then seconds", () => {
  assert.equal(formatMs(0.4), "0 ms");
  assert.equal(formatMs(999.4), "999 ms");
  assert.equal(formatMs(1250), "1.25 s");
});

Deno.test("formatPercent: more decimals for small probabilities", () => {
  assert.equal(formatPercent(0.6312), "63.1%");
  assert.equal(formatPercent(0.0319), "3.19%");
});
