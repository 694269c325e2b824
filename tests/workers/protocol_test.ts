import assert from "node:assert/strict";
import { ClientError, clientError } from "../../lib/errors.ts";
import { fromErrorData, toErrorData } from "../../workers/protocol.ts";

Deno.test("errors cross as data: client errors keep their code, others their name", () => {
  const client = fromErrorData(
    JSON.parse(
      JSON.stringify(toErrorData(clientError("TIMEOUT", "slow", { limit: 1 }))),
    ),
  );
  assert.ok(client instanceof ClientError);
  assert.equal(client.code, "TIMEOUT");
  assert.deepEqual(client.details, { limit: 1 });
  const range = fromErrorData(toErrorData(new RangeError("bad")));
  assert.equal(range.name, "RangeError");
  assert.equal(range.message, "bad");
  const aborted = fromErrorData(
    toErrorData(new DOMException("gone", "AbortError")),
  );
  assert.equal(aborted.name, "AbortError");
});
