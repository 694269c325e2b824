import assert from "node:assert/strict";
import { decodeImage } from "../../lib/image.ts";
import { inflateSync } from "node:zlib";
import { encodeRgbPng } from "../../lib/png.ts";
import { FAST_PNG } from "../../lib/zlib.ts";

Deno.test("encodeRgbPng round-trips chelsea.png exactly", async () => {
  const image = await decodeImage(
    await Deno.readFile(new URL("../fixtures/chelsea.png", import.meta.url)),
  );
  const png = await encodeRgbPng(image);
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
  const a = await encodeRgbPng({ width, height, data: rgb });
  const b = await encodeRgbPng({ width, height, data: rgb });
  assert.deepEqual(a, b);
  assert.ok(a.length < 1000, `${a.length} bytes`);
  assert.deepEqual((await decodeImage(a)).data, rgb);
});

Deno.test("encodeRgbPng checks the data size", async () => {
  await assert.rejects(
    () => encodeRgbPng({ width: 2, height: 2, data: new Uint8Array(3) }),
    /RGB data has 3 bytes, expected 12/,
  );
});

Deno.test("the server's encoding (Huffman-only deflate, native CRC, Sub filter) round-trips chelsea.png exactly, with Sub rows, at most 15 % larger than Paeth", async () => {
  const image = await decodeImage(
    await Deno.readFile(new URL("../fixtures/chelsea.png", import.meta.url)),
  );
  const fast = await encodeRgbPng(image, FAST_PNG);
  const paeth = await encodeRgbPng(image, {
    deflate: FAST_PNG.deflate!,
  });
  // The decoder checks every critical chunk's CRC, so the native CRC is
  // the same as the table-driven one.
  assert.deepEqual((await decodeImage(fast)).data, image.data);
  // Every row's filter byte is 1 (Sub).
  const raw = inflateSync(fast.subarray(41, fast.length - 16));
  const stride = image.width * 3 + 1;
  for (let y = 0; y < image.height; y++) assert.equal(raw[y * stride], 1);
  assert.ok(
    fast.length < paeth.length * 1.15,
    `${fast.length} vs ${paeth.length}`,
  );
});
