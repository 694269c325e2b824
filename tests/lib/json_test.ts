import assert from "node:assert/strict";
import { jsonBytes, stringifyJson } from "../../lib/json.ts";
import { longestStringified } from "../_json_spy.ts";

const LONG_SAFE = "data:image/png;base64," + "iVBORw0KGgo+/=".repeat(30_000);

/** Values JSON.stringify treats in every way it has. */
function samples(): unknown[] {
  class Point {
    x = 1;
    y = "two";
  }
  const holes = [1, , 3]; // a sparse array: its hole is null
  const nullProto = Object.assign(Object.create(null), { a: LONG_SAFE, b: 2 });
  return [
    null,
    true,
    0,
    -0,
    1.5e300,
    NaN,
    -Infinity,
    "",
    "plain",
    'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f',
    "café ☕ 𝌆 lone \ud800 surrogate",
    LONG_SAFE,
    LONG_SAFE + '"', // long, but has something to escape
    "é".repeat(5000), // long, not ASCII
    "\u2028".repeat(2000),
    [LONG_SAFE, undefined, () => 1, Symbol("s"), null, holes],
    { a: undefined, b: () => 1, c: Symbol("s"), d: 1, [Symbol("k")]: 2 },
    { first: undefined, second: LONG_SAFE }, // a skipped first key: no stray comma
    { toJSON: (key: string) => `key was "${key}"` },
    { inner: { toJSON: (key: string) => `key was "${key}"` } },
    [{ toJSON: (key: string) => `key was "${key}"` }],
    { nested: { toJSON: () => undefined }, kept: 1 },
    new Date(0),
    new Point(),
    new String("boxed"),
    new Number(3),
    new Map([[1, 2]]),
    nullProto,
    { "": 1, "1": 2, b: 3, a: 4, "0": 5 }, // integer keys first, as Object.keys
    {
      data: {
        explainMany: [{ method: "gradcam", overlay: LONG_SAFE }, {
          method: "layercam",
          overlay: LONG_SAFE.slice(0, 2000),
        }],
      },
    },
    { deep: [[[[{ x: [LONG_SAFE, "é"] }]]]] },
    // Long strings with one thing to escape (or not) in every byte lane,
    // at their start, in their middle and in their last bytes, after
    // pieces of every length mod 4.
    ...Array.from({ length: 8 }, (_, k) => [
      "x".repeat(k),
      LONG_SAFE.slice(0, 1500 + k) + "\u0001" + "yz".repeat(k),
      "\u001f" + LONG_SAFE.slice(0, 1100 + k),
      LONG_SAFE.slice(0, 1024 + k) + "\u0000",
      LONG_SAFE.slice(0, 1200 + k) + "\\" + LONG_SAFE.slice(0, k),
      LONG_SAFE.slice(0, 1300 + k) + "\ud800",
      LONG_SAFE.slice(0, 1300 + k) + "\u007f",
      LONG_SAFE.slice(0, 1300 + k) + " ~!",
    ]),
  ];
}

Deno.test("stringifyJson writes what JSON.stringify writes, for every kind of value", () => {
  for (const value of samples()) {
    assert.equal(stringifyJson(value), JSON.stringify(value));
  }
  assert.equal(stringifyJson(undefined), undefined);
  assert.equal(stringifyJson(() => 1), undefined);
});

Deno.test("jsonBytes is JSON.stringify's text as UTF-8, for every kind of value", () => {
  const encoder = new TextEncoder();
  for (const value of samples()) {
    assert.deepEqual(jsonBytes(value), encoder.encode(JSON.stringify(value)));
  }
  assert.throws(() => jsonBytes(undefined), TypeError);
});

Deno.test("stringifyJson and jsonBytes refuse cycles and BigInts as JSON.stringify does", () => {
  const cycle: Record<string, unknown> = { a: [1] };
  (cycle.a as unknown[]).push(cycle);
  for (const write of [stringifyJson, jsonBytes]) {
    assert.throws(() => write(cycle), TypeError);
    assert.throws(() => write({ n: 1n }), TypeError);
  }
  // The same object twice, side by side, is no cycle.
  const shared = { s: LONG_SAFE };
  assert.equal(
    stringifyJson([shared, shared]),
    JSON.stringify([shared, shared]),
  );
});

Deno.test("a long string with nothing to escape is joined in, not stringified", async () => {
  // Not one JSON.stringify call sees the long string: that copy is what this saves.
  const value = { data: { overlay: LONG_SAFE, label: "tabby" } };
  const expected = JSON.stringify(value);
  const { longest } = await longestStringified(() => {
    assert.equal(stringifyJson(value), expected);
    assert.deepEqual(jsonBytes(value), new TextEncoder().encode(expected));
  });
  assert.ok(longest < 100, `JSON.stringify wrote ${longest} characters`);
});
