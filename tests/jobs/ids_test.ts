import assert from "node:assert/strict";
import { isJobId, newJobId } from "../../jobs/_ids.ts";

Deno.test("job ids are 22 URL-safe characters (128 random bits) and never repeat", () => {
  const ids = new Set(Array.from({ length: 10_000 }, newJobId));
  assert.equal(ids.size, 10_000);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(isJobId(id));
  }
  // 22 base64 characters carry 132 bits; the last one holds 2 of them.
  const lasts = new Set([...ids].map((id) => id.at(-1)));
  assert.ok(lasts.size <= 4);
});

Deno.test("isJobId refuses anything that could reach a Redis key unchecked", () => {
  for (
    const id of [
      "",
      "a:b",
      "x".repeat(21),
      "x".repeat(23),
      "a/b+cAAAAAAAAAAAAAAAAA",
    ]
  ) {
    assert.equal(isJobId(id), false, id);
  }
});
