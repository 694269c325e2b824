import assert from "node:assert/strict";
import { checkCost } from "../../explain/mod.ts";
import { isClientError } from "../../lib/mod.ts";

Deno.test("checkCost: over the limit is BAD_USER_INPUT with both numbers; a request is told about jobs, a job is not", () => {
  assert.equal(checkCost(2_500, 2_500), 2_500);
  const refusal = (options?: { job?: boolean }) => {
    try {
      checkCost(50_177, 2_500, options);
    } catch (error) {
      assert.ok(isClientError(error));
      assert.equal(error.code, "BAD_USER_INPUT");
      assert.deepEqual(error.details, { estimate: 50_177, limit: 2_500 });
      return error.message;
    }
    assert.fail("not refused");
  };
  assert.match(
    refusal(),
    /^This request would run about 50177 model passes; the limit is 2500: .*run it as a job/,
  );
  const job = refusal({ job: true });
  assert.match(
    job,
    /^This job would run about 50177 model passes; the limit is 2500/,
  );
  assert.doesNotMatch(job, /as a job/);
});
