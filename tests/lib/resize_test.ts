import assert from "node:assert/strict";
import {
  resizeRgb,
  resizeRgbLinear,
  upsampleBilinear,
} from "../../lib/resize.ts";
import { decodeImage } from "../../lib/image.ts";

function assertClose(actual: Float32Array, expected: number[], tol = 1e-6) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `index ${i}: ${actual[i]} != ${expected[i]}`,
    );
  }
}

Deno.test("resizeRgb keeps a constant image constant", () => {
  const image = {
    width: 37,
    height: 23,
    data: new Uint8Array(37 * 23 * 3).map((_, i) => [12, 200, 99][i % 3]),
  };
  for (const [w, h] of [[224, 224], [5, 3], [37, 50], [1, 1]]) {
    const out = resizeRgb(image, { width: w, height: h });
    assert.equal(out.width, w);
    assert.equal(out.height, h);
    assert.equal(out.data.length, w * h * 3);
    assert.ok(out.data.every((v, i) => v === [12, 200, 99][i % 3]));
  }
});

Deno.test("resizeRgb matches Pillow's BILINEAR resize", () => {
  // PIL 9.4: Image.fromarray(src).resize((4, 1) / (9, 1), Image.BILINEAR)
  const image = {
    width: 6,
    height: 1,
    data: new Uint8Array([
      10,
      20,
      30,
      40,
      50,
      60,
      70,
      80,
      90,
      250,
      0,
      5,
      100,
      100,
      100,
      0,
      255,
      128,
    ]),
  };
  assert.deepEqual(
    [...resizeRgb(image, { width: 4, height: 1 }).data],
    [21, 31, 41, 80, 61, 71, 180, 42, 46, 38, 197, 118],
  );
  assert.deepEqual([...resizeRgb(image, { width: 9, height: 1 }).data], [
    10,
    20,
    30,
    25,
    35,
    45,
    45,
    55,
    65,
    65,
    75,
    85,
    160,
    40,
    48,
    225,
    17,
    21,
    125,
    83,
    84,
    50,
    178,
    114,
    0,
    255,
    128,
  ]);
});

Deno.test("resizeRgb resizes vertically and leaves its input alone", () => {
  const data = new Uint8Array([0, 0, 0, 100, 100, 100]); // 1x2, black over grey
  const image = { width: 1, height: 2, data };
  // Downscaling to one row averages both rows.
  assert.deepEqual([...resizeRgb(image, { width: 1, height: 1 }).data], [
    50,
    50,
    50,
  ]);
  // Same size returns a copy.
  const same = resizeRgb(image, { width: 1, height: 2 });
  assert.notEqual(same.data, data);
  assert.deepEqual([...same.data], [...data]);
  assert.deepEqual([...data], [0, 0, 0, 100, 100, 100]);
});

Deno.test("upsampleBilinear follows OpenCV's half-pixel formula", () => {
  // 2x2 -> 4x4, scale 0.5: src = (dst + 0.5) * 0.5 - 0.5
  //   dst 0 -> -0.25 (clamped to 0), 1 -> 0.25, 2 -> 0.75, 3 -> 1.25 (to 1)
  // so each axis samples at [0, 0.25, 0.75, 1] between the two values.
  const map = { values: new Float32Array([0, 1, 2, 3]), width: 2, height: 2 };
  const row = (a: number, b: number) =>
    [0, 0.25, 0.75, 1].map((t) => a + (b - a) * t);
  const top = row(0, 1);
  const bottom = row(2, 3);
  const expected = [0, 0.25, 0.75, 1].flatMap((t) =>
    top.map((v, i) => v + (bottom[i] - v) * t)
  );
  assertClose(upsampleBilinear(map, { width: 4, height: 4 }), expected);
  // Spelled out: the second row is 0.25 of the way from the top to the bottom.
  assertClose(upsampleBilinear(map, { width: 4, height: 4 }).subarray(4, 8), [
    0.5,
    0.75,
    1.25,
    1.5,
  ]);
});

Deno.test("upsampleBilinear matches cv2.resize INTER_LINEAR", () => {
  // cv2.resize(np.float32([[0.1, 0.9, 0.4], [0.7, 0.2, 1.0]]), (5, 4),
  //            interpolation=cv2.INTER_LINEAR), OpenCV 4.6.0
  const values = new Float32Array([0.1, 0.9, 0.4, 0.7, 0.2, 1.0]);
  const map = { values, width: 3, height: 2 };
  assertClose(upsampleBilinear(map, { width: 5, height: 4 }), [
    0.10000000149011612,
    0.41999998688697815,
    0.8999999761581421,
    0.5999999642372131,
    0.4000000059604645,
    0.25,
    0.4399999976158142,
    0.7249999642372131,
    0.6200000047683716,
    0.550000011920929,
    0.5499999523162842,
    0.47999998927116394,
    0.375,
    0.6599999666213989,
    0.8500000238418579,
    0.699999988079071,
    0.5,
    0.20000000298023224,
    0.6800000071525574,
    1.0,
  ]);
  assert.deepEqual([...values], [
    ...new Float32Array([0.1, 0.9, 0.4, 0.7, 0.2, 1]),
  ]);
});

Deno.test("upsampleBilinear rejects inconsistent sizes", () => {
  assert.throws(
    () =>
      upsampleBilinear(
        { values: new Float32Array(3), width: 2, height: 2 },
        { width: 4, height: 4 },
      ),
    RangeError,
  );
  assert.throws(
    () =>
      upsampleBilinear(
        { values: new Float32Array(4), width: 2, height: 2 },
        { width: 0, height: 4 },
      ),
    RangeError,
  );
});

Deno.test("resizeRgbLinear is bit-exact with OpenCV INTER_LINEAR on chelsea.png → 224²", async () => {
  // Made with: cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_LINEAR)
  // (OpenCV 4.6.0, Debian python3-opencv), raw RGB bytes.
  const expected = await Deno.readFile(
    new URL("../fixtures/chelsea_224_cv2_inter_linear.rgb", import.meta.url),
  );
  const image = await decodeImage(
    await Deno.readFile(new URL("../fixtures/chelsea.png", import.meta.url)),
  );
  const resized = resizeRgbLinear(image, { width: 224, height: 224 });
  assert.equal(resized.width, 224);
  assert.deepEqual(resized.data, expected);
});
