import assert from "node:assert/strict";
import {
  describeCode,
  describeErrors,
  describeHttp,
} from "../../web/client/messages.ts";

const API_CODES = [
  "BAD_USER_INPUT",
  "INVALID_IMAGE",
  "IMAGE_TOO_LARGE",
  "UNKNOWN_METHOD",
  "UNKNOWN_LAYER",
  "UNSUPPORTED_LAYER",
  "UNKNOWN_COLORMAP",
  "MODEL_NOT_READY",
  "OVERLOADED",
  "MODEL_LOAD_FAILED",
  "INTERNAL_SERVER_ERROR",
  // Jobs and models.
  "UNKNOWN_MODEL",
  "CANCELLED",
  "JOB_NOT_FOUND",
  "WORKER_LOST",
  "MODEL_CRASHED",
  "UNAVAILABLE",
  "INTERNAL",
];

Deno.test("messages: every API error code has its own sentence", async () => {
  const source = await Deno.readTextFile(
    new URL("../../lib/errors.ts", import.meta.url),
  );
  const declared = [
    ...source.matchAll(/\|\s*"([A-Z_]+)"/g),
  ].map((m) => m[1]);
  for (const code of new Set([...API_CODES, ...declared])) {
    const problem = describeCode(code, "server words");
    assert.equal(problem.code, code);
    assert.doesNotMatch(problem.title, /server words/, code);
    assert.equal(problem.detail, "server words");
  }
});

Deno.test("messages: retry is offered only where waiting helps", () => {
  assert.equal(describeCode("OVERLOADED").retry, true);
  assert.equal(describeCode("MODEL_NOT_READY").retry, true);
  assert.equal(describeCode("INVALID_IMAGE").retry, false);
});

Deno.test("messages: an unknown code still reads as a sentence", () => {
  const problem = describeCode("SOMETHING_NEW", "Quota used up");
  assert.equal(problem.title, "The request failed: Quota used up");
});

Deno.test("messages: GraphQL errors are deduplicated by code and message", () => {
  const problems = describeErrors([
    { message: "Cannot decode", extensions: { code: "INVALID_IMAGE" } },
    { message: "Cannot decode", extensions: { code: "INVALID_IMAGE" } },
    { message: "no code" },
  ]);
  assert.deepEqual(problems.map((p) => p.code), [
    "INVALID_IMAGE",
    "INTERNAL_SERVER_ERROR",
  ]);
});

Deno.test("messages: HTTP failures use the body's codes when it has them", () => {
  const body = JSON.stringify({
    errors: [{ message: "Busy", extensions: { code: "OVERLOADED" } }],
  });
  assert.equal(describeHttp(503, body)[0].code, "OVERLOADED");
  const [csrf] = describeHttp(403, "Forbidden");
  assert.equal(csrf.code, "HTTP_403");
  assert.match(csrf.title, /cross-site/);
  assert.equal(
    describeHttp(413, "")[0].title,
    "The upload is larger than the server accepts.",
  );
  assert.equal(describeHttp(502, "")[0].retry, true);
});
