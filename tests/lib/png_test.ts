import assert from "node:assert/strict";
import { decodeImage } from "../../lib/image.ts";
import { encodeRgbPng } from "../../lib/png.ts";

Deno.test("encodeRgbPng round-trips chelsea.png exactly", async () => {
  const image = await decodeImage(
    await Deno.readFile(new URL("../fixtures/chelsea.png", import.meta.url)),
  );
  const png = await encodeRgbPng(image.width, image.height, image.data);
  // The decoder checks every critical chunk's CRC and IEND.
  const back = await decodeImage(png);
  assert.equal(back.width, 451);
  assert.equal(back.height, 300);
  assert.deepEqual(back.data, image.data);
});

Deno.test("encodeRgbPng is deterministic and filters rows", async () => {
  // A horizontal gradient compresses far better with the Sub filter.
  const width = 256;
  const height = 64;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb.fill(i % width, i * 3, i * 3 + 3);
  }
  const a = await encodeRgbPng(width, height, rgb);
  const b = await encodeRgbPng(width, height, rgb);
  assert.deepEqual(a, b);
  assert.ok(a.length < 1000, `${a.length} bytes`);
  assert.deepEqual((await decodeImage(a)).data, rgb);
});

Deno.test("encodeRgbPng checks the data size", async () => {
  await assert.rejects(
    () => encodeRgbPng(2, 2, new Uint8Array(3)),
    /RGB data has 3 bytes, expected 12/,
  );
});
