import assert from "node:assert/strict";
import {
  bytes,
  fraction,
  fromFlagOrEnv,
  integer,
  oneOf,
  UsageError,
} from "../../config/mod.ts";

Deno.test("flag validators accept what they say and name the flag otherwise", () => {
  assert.equal(integer("--port", "8000", { min: 0, max: 65535 }), 8000);
  assert.throws(
    () => integer("--port", "70000", { min: 0, max: 65535 }),
    /--port "70000"/,
  );
  assert.throws(() => integer("--threads", "1.5", { min: 1 }), UsageError);
  assert.throws(() => integer("--threads", "-1", { min: 1 }), UsageError);
  assert.equal(fraction("--alpha", "0.25", { min: 0, max: 1 }), 0.25);
  assert.throws(
    () => fraction("--alpha", "", { min: 0, max: 1 }),
    /--alpha ""/,
  );
  assert.throws(() => fraction("--alpha", "2", { min: 0, max: 1 }), UsageError);
  assert.equal(oneOf("--x", "b", { valid: ["a", "b"] }), "b");
  assert.throws(() => oneOf("--x", "c", { valid: ["a", "b"] }), /use a, b/);
  assert.equal(bytes("--m", "1536M"), 1536 * 1024 ** 2);
  assert.equal(bytes("--m", "2GiB"), 2 * 1024 ** 3);
  assert.equal(bytes("--m", "4096"), 4096);
  assert.throws(() => bytes("--m", "1.5G"), /byte count/);
  assert.throws(() => bytes("--m", "0"), UsageError);
  assert.deepEqual(
    fromFlagOrEnv(
      { flag: "--port", value: undefined },
      { variable: "PORT", env: { PORT: "1" } },
    ),
    {
      name: "PORT",
      text: "1",
    },
  );
  assert.deepEqual(
    fromFlagOrEnv(
      { flag: "--port", value: "2" },
      { variable: "PORT", env: { PORT: "1" } },
    ),
    {
      name: "--port",
      text: "2",
    },
  );
  assert.equal(
    fromFlagOrEnv(
      { flag: "--port", value: undefined },
      { variable: "PORT", env: {} },
    ),
    null,
  );
});
