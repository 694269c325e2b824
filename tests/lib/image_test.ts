import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import { decodeImage, readImageHeader } from "../../lib/image.ts";

// chelsea.jpg: PIL `Image.open("chelsea.png").save("chelsea.jpg", quality=90)`.
// gray_4x3.png (mode L), rgba_2x2.png (mode RGBA), palette_3x1.png (mode P):
// cmyk_8x8.jpg (RGB(200, 100, 50) saved as CMYK), gray_8x8.jpg (L, 90): made
// with PIL from the pixel values asserted below.
const fixture = (name: string) =>
  Deno.readFile(new URL(`../fixtures/${name}`, import.meta.url));

function isClientError(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ClientError, `not a ClientError: ${error}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

/** A PNG signature plus an IHDR chunk (CRC left zero) declaring w x h. */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // "IHDR"
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24); // 8-bit RGB
  return bytes;
}

Deno.test("readImageHeader reads PNG and JPEG sizes", async () => {
  assert.deepEqual(readImageHeader(await fixture("chelsea.png")), {
    format: "png",
    width: 451,
    height: 300,
  });
  assert.deepEqual(readImageHeader(await fixture("chelsea.jpg")), {
    format: "jpeg",
    width: 451,
    height: 300,
  });
});

Deno.test("readImageHeader rejects empty, unknown and truncated input", () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /empty/],
    [new TextEncoder().encode("GIF89a......"), /not a PNG or JPEG file/],
    [new Uint8Array([0x89, 0x50, 0x4e]), /PNG header is truncated/],
    [pngHeader(10, 10).subarray(0, 20), /PNG header is truncated/],
    [new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00]), /JPEG header/],
    [pngHeader(0, 10), /zero size/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(
      () => readImageHeader(bytes),
      isClientError("INVALID_IMAGE", pattern),
    );
  }
});

Deno.test("decodeImage decodes an RGB PNG", async () => {
  const image = await decodeImage(await fixture("chelsea.png"));
  assert.equal(image.width, 451);
  assert.equal(image.height, 300);
  assert.equal(image.data.length, 451 * 300 * 3);
  // First pixel, as PIL reads it.
  assert.deepEqual([...image.data.subarray(0, 3)], [143, 120, 104]);
});

Deno.test("decodeImage decodes a JPEG close to the PNG it came from", async () => {
  const jpeg = await decodeImage(await fixture("chelsea.jpg"));
  const png = await decodeImage(await fixture("chelsea.png"));
  assert.equal(jpeg.width, 451);
  assert.equal(jpeg.height, 300);
  let total = 0;
  for (let i = 0; i < png.data.length; i++) {
    total += Math.abs(png.data[i] - jpeg.data[i]);
  }
  assert.ok(
    total / png.data.length < 4,
    `mean error ${total / png.data.length}`,
  );
});

Deno.test("decodeImage expands grayscale and palette PNGs to RGB", async () => {
  const gray = await decodeImage(await fixture("gray_4x3.png"));
  assert.equal(gray.width, 4);
  assert.equal(gray.height, 3);
  assert.deepEqual([...gray.data.subarray(0, 6)], [0, 0, 0, 50, 50, 50]);
  assert.deepEqual([...gray.data.subarray(33)], [60, 60, 60]);

  const palette = await decodeImage(await fixture("palette_3x1.png"));
  assert.deepEqual(
    [...palette.data],
    [10, 20, 30, 200, 100, 50, 0, 255, 0],
  );
});

Deno.test("decodeImage converts grayscale and CMYK JPEGs to RGB", async () => {
  const gray = await decodeImage(await fixture("gray_8x8.jpg"));
  assert.equal(gray.data.length, 8 * 8 * 3);
  assert.deepEqual([...gray.data.subarray(0, 3)], [90, 90, 90]);
  const cmyk = await decodeImage(await fixture("cmyk_8x8.jpg"));
  assert.deepEqual([...cmyk.data.subarray(0, 3)], [200, 100, 50]);
  assert.deepEqual([...cmyk.data.subarray(189)], [200, 100, 50]);
});

Deno.test("decodeImage composites RGBA PNGs over white", async () => {
  const image = await decodeImage(await fixture("rgba_2x2.png"));
  assert.deepEqual([...image.data], [
    255,
    0,
    0, // opaque red
    255,
    127,
    127, // red at alpha 128
    255,
    255,
    255, // fully transparent blue
    0,
    255,
    0, // opaque green
  ]);
});

Deno.test("decodeImage rejects random bytes and empty files", async () => {
  const random = new Uint8Array(1000);
  for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 251;
  await assert.rejects(
    decodeImage(random),
    isClientError("INVALID_IMAGE", /^Cannot decode image: not a PNG or JPEG/),
  );
  await assert.rejects(
    decodeImage(new Uint8Array(0)),
    isClientError("INVALID_IMAGE"),
  );
});

Deno.test("decodeImage rejects truncated PNG and JPEG files", async () => {
  const png = await fixture("chelsea.png");
  const jpeg = await fixture("chelsea.jpg");
  for (
    const bytes of [
      png.subarray(0, png.length >> 1),
      png.subarray(0, png.length - 12), // only IEND missing
      jpeg.subarray(0, jpeg.length >> 1),
      jpeg.subarray(0, jpeg.length - 2), // only EOI missing
    ]
  ) {
    await assert.rejects(
      decodeImage(bytes),
      isClientError("INVALID_IMAGE", /^Cannot decode image: /),
    );
  }
});

Deno.test("decodeImage rejects a PNG with corrupted image data", async () => {
  const png = (await fixture("chelsea.png")).slice();
  png.fill(0, 50_000, 50_100); // inside an IDAT chunk
  await assert.rejects(
    decodeImage(png),
    isClientError("INVALID_IMAGE", /IDAT is corrupt/),
  );
});

Deno.test("decodeImage tolerates corrupt ancillary PNG chunks", async () => {
  const png = (await fixture("chelsea.png")).slice();
  png.fill(0, 5000, 5100); // inside the iTXt (XMP) chunk
  const image = await decodeImage(png);
  assert.equal(image.width, 451);
});

Deno.test("decodeImage refuses oversized images from the header alone", async () => {
  // The file is a 33-byte PNG header with no pixel data: refusing it as too
  // large (not as truncated, as below) shows the header alone decided.
  await assert.rejects(
    decodeImage(pngHeader(100_000, 100_000)),
    (error: unknown) => {
      isClientError("IMAGE_TOO_LARGE", /10000000000 pixels/)(error);
      assert.equal((error as ClientError).details.limit, 40_000_000);
      return true;
    },
  );
  await assert.rejects(
    decodeImage(pngHeader(100, 100)),
    (error: unknown) => (error as ClientError).code === "INVALID_IMAGE",
  );

  const png = await fixture("chelsea.png");
  await assert.rejects(
    decodeImage(png, { maxPixels: 451 * 300 - 1 }),
    isClientError("IMAGE_TOO_LARGE", /135299/),
  );
  const image = await decodeImage(png, { maxPixels: 451 * 300 });
  assert.equal(image.width, 451);
});

Deno.test("decodeImage refuses an oversized JPEG frame header", async () => {
  const jpeg = new Uint8Array([
    0xff,
    0xd8, // SOI
    0xff,
    0xc0,
    0x00,
    0x0b,
    0x08,
    0xff,
    0xff,
    0xff,
    0xff,
    0x01,
    0x01,
    0x11,
    0,
  ]);
  await assert.rejects(decodeImage(jpeg), isClientError("IMAGE_TOO_LARGE"));
});

Deno.test("decodeImage does not modify its input", async () => {
  const png = await fixture("chelsea.png");
  const copy = png.slice();
  await decodeImage(png);
  assert.deepEqual(png, copy);
});
