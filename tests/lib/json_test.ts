import assert from "node:assert/strict";
import {
  jsonBytes,
  jsonChunks,
  LongStrings,
  stringifyJson,
} from "../../lib/json.ts";
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

Deno.test("strings kept as bytes are written in place of their keys, by every writer", () => {
  const strings = new LongStrings();
  const encode = (text: string) => new TextEncoder().encode(text);
  const overlay = encode(LONG_SAFE);
  const small = encode("tabby");
  const value = {
    data: {
      a: strings.add(overlay),
      gone: undefined, // dropped, between kept strings
      b: [strings.add(small), "é", strings.add(overlay)],
      c: { d: strings.add(encode("")) },
    },
  };
  const expected = JSON.stringify({
    data: { a: LONG_SAFE, b: ["tabby", "é", LONG_SAFE], c: { d: "" } },
  });
  assert.equal(stringifyJson(value, { strings }), expected);
  assert.deepEqual(jsonBytes(value, { strings }), encode(expected));
  const chunks = jsonChunks(value, { strings });
  // The kept bytes themselves, not copies, between pieces of text.
  assert.equal(chunks.filter((c) => c === overlay).length, 2);
  assert.ok(chunks.includes(small));
  const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
  assert.deepEqual(joined, encode(expected));
  // Without the set (or with another) a key is only a string.
  const key = value.data.a;
  assert.equal(stringifyJson({ key }), JSON.stringify({ key }));
  assert.equal(
    stringifyJson({ key }, { strings: new LongStrings() }),
    JSON.stringify({ key }),
  );
  assert.equal(
    stringifyJson(key.slice(0, -1) + "9", { strings }),
    JSON.stringify(key.slice(0, -1) + "9"),
  );
});

Deno.test("LongStrings keeps only what JSON writes as it is: printable ASCII but quote and backslash", () => {
  const strings = new LongStrings();
  const plain = new Uint8Array(0x7f - 0x20).map((_, i) => 0x20 + i)
    .filter((c) => c !== 0x22 && c !== 0x5c);
  strings.add(plain);
  // Each refused byte, at each place in a 4-byte word, in words read at
  // each alignment.
  const refused = [0x00, 0x0a, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xc3, 0xff];
  const buffer = new Uint8Array(64 + 3);
  for (const offset of [0, 1, 2, 3]) {
    for (let at = 0; at < 64; at++) {
      for (const bad of refused) {
        const bytes = buffer.subarray(offset, offset + 64).fill(0x41);
        bytes[at] = bad;
        assert.throws(
          () => strings.add(bytes),
          RangeError,
          `${bad} at ${at}+${offset}`,
        );
      }
      const bytes = buffer.subarray(offset, offset + 64).fill(0x41);
      bytes[at] = 0x7e;
      strings.add(bytes);
    }
  }
  for (let n = 0; n < 9; n++) {
    strings.add(new Uint8Array(n).fill(0x20));
    const short = new Uint8Array(n + 1).fill(0x20);
    short[n] = 0x22;
    assert.throws(() => strings.add(short), RangeError);
  }
});
