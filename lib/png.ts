/**
 * A small PNG encoder for 8-bit RGB images: Paeth row filtering and zlib
 * (the platform's `CompressionStream` by default, or a faster `deflate`
 * the caller gives).
 *
 * @module
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  for (let i = 0; i < bytes.length; i++) {
    crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  }
  return crc;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(
    8 + data.length,
    crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff,
  );
  return out;
}

/** Paeth residuals of one RGB row into `out` (`up`: the row above). */
function paethRow(row: Uint8Array, up: Uint8Array, out: Uint8Array): void {
  const n = row.length;
  for (let i = 0; i < 3; i++) out[i] = row[i] - up[i];
  for (let i = 3; i < n; i++) {
    const a = row[i - 3];
    const b = up[i];
    const c = up[i - 3];
    const pa = Math.abs(b - c);
    const pb = Math.abs(a - c);
    const pc = Math.abs(a + b - 2 * c);
    out[i] = row[i] - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
  }
}

// Paeth alone: on photos and overlays the per-row adaptive choice among all
// five filters picked it for nearly every row (same size, 25 % slower).
const PAETH = 4;

/** Filters every row with Paeth (filter type byte + residuals). */
function filterRows(
  width: number,
  height: number,
  rgb: Uint8Array,
): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(height * (stride + 1));
  const zero = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = rgb.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rgb.subarray((y - 1) * stride, y * stride) : zero;
    const at = y * (stride + 1);
    out[at] = PAETH;
    paethRow(row, up, out.subarray(at + 1, at + 1 + stride));
  }
  return out;
}

/** Compresses PNG image data (zlib format). */
export type Deflate = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * zlib through the platform's `CompressionStream` (browsers and Deno).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = await encodeRgbPng(1, 1, new Uint8Array([255, 0, 0]), {
 *   deflate: streamDeflate,
 * });
 * assert.ok(bytes.length > 8);
 * ```
 */
export async function streamDeflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Encodes RGB pixels (3 bytes per pixel, row-major) as an 8-bit truecolour
 * PNG with no metadata: the bytes depend on the pixels only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = await encodeRgbPng(1, 1, new Uint8Array([255, 0, 0]));
 * assert.equal(new TextDecoder().decode(bytes.subarray(1, 4)), "PNG");
 * ```
 */
export async function encodeRgbPng(
  width: number,
  height: number,
  rgb: Uint8Array,
  options: {
    /** @default streamDeflate (the platform's CompressionStream) */
    deflate?: Deflate;
  } = {},
): Promise<Uint8Array> {
  const deflate = options.deflate ?? streamDeflate;
  if (rgb.length !== width * height * 3) {
    throw new RangeError(
      `RGB data has ${rgb.length} bytes, expected ${width * height * 3}`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", await deflate(filterRows(width, height, rgb))),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
