import assert from "node:assert/strict";
import { ciValueIsSet } from "./_ci.ts";

Deno.test("CI counts as set only for true or 1", () => {
  for (const value of ["true", "1", "TRUE", " True "]) {
    assert.equal(ciValueIsSet(value), true, value);
  }
  for (const value of [undefined, "", "false", "0", "no", "off", "False"]) {
    assert.equal(ciValueIsSet(value), false, String(value));
  }
});
