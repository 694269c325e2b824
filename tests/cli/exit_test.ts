import assert from "node:assert/strict";
import { EXIT, EXIT_STATUS } from "../../cli/exit.ts";
import { ERROR_CODES } from "../../lib/errors.ts";

Deno.test("every client error code has one CLI exit status", () => {
  assert.deepEqual(Object.keys(EXIT_STATUS).sort(), [...ERROR_CODES].sort());
  const statuses = new Set(Object.values(EXIT));
  for (const code of ERROR_CODES) {
    assert.ok(statuses.has(EXIT_STATUS[code] as 0 | 1 | 2 | 3), code);
  }
  // What the user typed wrong is a usage error; what the model or server
  // could not do is not.
  assert.equal(EXIT_STATUS.UNKNOWN_LAYER, EXIT.usage);
  assert.equal(EXIT_STATUS.INVALID_IMAGE, EXIT.someFilesFailed);
  assert.equal(EXIT_STATUS.MODEL_LOAD_FAILED, EXIT.unavailable);
});
