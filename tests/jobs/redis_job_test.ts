import assert from "node:assert/strict";
import { INTERNAL_MESSAGE } from "../../jobs/_errors.ts";
import {
  decodeFailure,
  encodeFailure,
  STALLED_REASON,
} from "../../jobs/_redis_job.ts";

Deno.test("a failure survives BullMQ's failedReason, message lines included", () => {
  const failure = { code: "BAD_USER_INPUT", message: "Bad size:\n2 > 1" };
  assert.deepEqual(decodeFailure(encodeFailure(failure), 0), failure);
});

Deno.test("BullMQ's stall limit becomes WORKER_LOST with the count", () => {
  const failure = decodeFailure(STALLED_REASON, 2);
  assert.equal(failure.code, "WORKER_LOST");
  assert.match(failure.message, /stopped 2 times/);
});

Deno.test("an unknown failedReason is INTERNAL and not shown", () => {
  assert.deepEqual(decodeFailure("Missing lock for job x", 0), {
    code: "INTERNAL",
    message: INTERNAL_MESSAGE,
  });
  assert.equal(decodeFailure("[lower] case", 0).code, "INTERNAL");
});
