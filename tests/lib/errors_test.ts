import assert from "node:assert/strict";
import { GraphQLError } from "graphql";
import { clientError } from "../../lib/errors.ts";

Deno.test("clientError builds a GraphQLError with the code", () => {
  const error = clientError("INVALID_IMAGE", "Cannot decode image: bad");
  assert.ok(error instanceof GraphQLError);
  assert.equal(error.message, "Cannot decode image: bad");
  assert.deepEqual(error.extensions, { code: "INVALID_IMAGE" });
});

Deno.test("clientError merges extra extensions after the code", () => {
  const error = clientError("IMAGE_TOO_LARGE", "Too large", {
    limit: 10,
    code: "OTHER",
  });
  assert.deepEqual(error.extensions, { code: "IMAGE_TOO_LARGE", limit: 10 });
  assert.deepEqual(Object.keys(error.extensions), ["code", "limit"]);
});
