import assert from "node:assert/strict";
import {
  ClientError,
  clientError,
  clientErrorData,
  ERROR_CODES,
  isClientError,
  RETRYABLE_CODES,
  reviveClientError,
} from "../../lib/errors.ts";

Deno.test("clientError builds a plain ClientError with the code", () => {
  const error = clientError("INVALID_IMAGE", "Cannot decode image: bad");
  assert.ok(error instanceof ClientError);
  assert.ok(error instanceof Error);
  assert.ok(isClientError(error));
  assert.equal(error.message, "Cannot decode image: bad");
  assert.equal(error.code, "INVALID_IMAGE");
  assert.deepEqual(error.details, {});
});

Deno.test("a code in the details never overrides the error's code", () => {
  const error = clientError("IMAGE_TOO_LARGE", "Too large", {
    limit: 10,
    code: "OTHER",
  });
  assert.equal(error.code, "IMAGE_TOO_LARGE");
  assert.deepEqual(error.details, { limit: 10 });
});

Deno.test("client errors cross a process boundary as data and come back", () => {
  const error = clientError("OVERLOADED", "Busy", { limit: 16 });
  const data = JSON.parse(JSON.stringify(clientErrorData(error)));
  const revived = reviveClientError(data);
  assert.ok(revived instanceof ClientError);
  assert.equal(revived.code, "OVERLOADED");
  assert.equal(revived.message, "Busy");
  assert.deepEqual(revived.details, { limit: 16 });
  assert.equal(reviveClientError({ code: "NOT_A_CODE", message: "x" }), null);
  assert.equal(reviveClientError(null), null);
  assert.equal(isClientError(new Error("bug")), false);
});

Deno.test("the codes are unique and the retryable ones are codes", () => {
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  for (const code of RETRYABLE_CODES) assert.ok(ERROR_CODES.includes(code));
});

Deno.test("nothing below the API imports graphql", async () => {
  const below = ["lib", "models", "explainers", "explain", "workers", "jobs"];
  const offenders: string[] = [];
  const root = new URL("../../", import.meta.url);
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        if (/from\s+["'](npm:)?graphql(-yoga)?["'@/]/.test(text)) {
          offenders.push(url.pathname.slice(root.pathname.length));
        }
      }
    }
  };
  for (const folder of below) {
    try {
      await walk(new URL(`${folder}/`, root));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  assert.deepEqual(offenders, []);
});
