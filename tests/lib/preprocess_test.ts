import assert from "node:assert/strict";
import { preprocess, PREPROCESS_MODES } from "../../lib/preprocess.ts";

const image = {
  width: 2,
  height: 1,
  data: new Uint8Array([255, 0, 10, 0, 128, 255]),
};

function assertClose(actual: Float32Array, expected: number[]) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) < 1e-4,
      `index ${i}: ${actual[i]} != ${expected[i]}`,
    );
  }
}

Deno.test("PREPROCESS_MODES lists the four modes", () => {
  assert.deepEqual([...PREPROCESS_MODES], ["caffe", "tf", "torch", "none"]);
});

Deno.test("none mode keeps the RGB values, 0 to 255", () => {
  assertClose(preprocess(image, "none"), [255, 0, 10, 0, 128, 255]);
});

Deno.test("caffe mode swaps to BGR and subtracts the BGR means", () => {
  assertClose(preprocess(image, "caffe"), [
    10 - 103.939,
    0 - 116.779,
    255 - 123.68,
    255 - 103.939,
    128 - 116.779,
    0 - 123.68,
  ]);
});

Deno.test("tf mode scales to [-1, 1]", () => {
  assertClose(preprocess(image, "tf"), [
    1,
    -1,
    10 / 127.5 - 1,
    -1,
    128 / 127.5 - 1,
    1,
  ]);
});

Deno.test("torch mode normalises RGB with ImageNet mean and std", () => {
  assertClose(preprocess(image, "torch"), [
    (1 - 0.485) / 0.229,
    (0 - 0.456) / 0.224,
    (10 / 255 - 0.406) / 0.225,
    (0 - 0.485) / 0.229,
    (128 / 255 - 0.456) / 0.224,
    (1 - 0.406) / 0.225,
  ]);
});

Deno.test("preprocess leaves the image alone and returns NHWC float32", () => {
  const out = preprocess(image, "tf");
  assert.ok(out instanceof Float32Array);
  assert.equal(out.length, 2 * 1 * 3);
  assert.deepEqual([...image.data], [255, 0, 10, 0, 128, 255]);
});
