import assert from "node:assert/strict";
import { scaleMap } from "../../lib/heatmap.ts";

Deno.test("scaleMap applies ReLU then divides by the maximum", () => {
  const map = scaleMap({
    values: new Float32Array([-1, 1, 2, 4]),
    width: 2,
    height: 2,
  });
  assert.deepEqual([...map.values], [0, 0.25, 0.5, 1]);
  assert.equal(map.rawMin, -1);
  assert.equal(map.rawMax, 4);
});

Deno.test("an all-zero map stays all zeros, with no NaN", () => {
  const map = scaleMap({ values: new Float32Array(4), width: 2, height: 2 });
  assert.deepEqual([...map.values], [0, 0, 0, 0]);
  assert.equal(map.rawMax, 0);
});

Deno.test("an all-negative map becomes all zeros", () => {
  const map = scaleMap({
    values: new Float32Array([-3, -1]),
    width: 2,
    height: 1,
  });
  assert.deepEqual([...map.values], [0, 0]);
  assert.equal(map.rawMin, -3);
  assert.equal(map.rawMax, -1);
});

Deno.test("scaleMap does not modify its input and checks the size", () => {
  const raw = new Float32Array([1, 2]);
  scaleMap({ values: raw, width: 2, height: 1 });
  assert.deepEqual([...raw], [1, 2]);
  assert.throws(
    () => scaleMap({ values: raw, width: 3, height: 1 }),
    /Map has 2 values, expected 3×1/,
  );
});
