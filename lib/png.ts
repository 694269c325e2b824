/**
 * A small PNG encoder for 8-bit RGB images: Paeth (or Sub) row filtering
 * and zlib (the platform's `CompressionStream` by default, or a faster
 * `deflate` and CRC the caller gives).
 *
 * @module
 */
import type { DeflateRoom } from "./deflate.ts";
import type { RgbImage } from "./image.ts";

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

/** The finished CRC-32 (as zlib's `crc32`) of the table-driven one. */
function tableCrc32(bytes: Uint8Array): number {
  return (crc32(bytes) ^ 0xffffffff) >>> 0;
}

/** Writes a chunk (length, type, data, CRC) into `out` at `at`; returns the end. */
function writeChunk(
  out: Uint8Array,
  at: number,
  chunk: { type: string; data: Uint8Array },
  crc: (bytes: Uint8Array) => number,
): number {
  const { type, data } = chunk;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, data.length);
  for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
  // Data a deflate left in place (see `Deflate`) is not copied onto itself.
  if (
    data.buffer !== out.buffer || data.byteOffset !== out.byteOffset + at + 8
  ) {
    out.set(data, at + 8);
  }
  const end = at + 8 + data.length;
  view.setUint32(end, crc(out.subarray(at + 4, end)));
  return end + 4;
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

/** Sub residuals of one RGB row into `out` (the pixel to the left). */
function subRow(row: Uint8Array, out: Uint8Array): void {
  out[0] = row[0];
  out[1] = row[1];
  out[2] = row[2];
  for (let i = 3; i < row.length; i++) out[i] = row[i] - row[i - 3];
}

// One filter for every row: on photos and overlays the per-row adaptive
// choice among all five picked Paeth for nearly every row (same size, 25 %
// slower). Sub is five times cheaper than Paeth and its files about 9 %
// larger (a 451×300 overlay: 0.4 against 2.3 ms, 224 against 206 KB).
const FILTER_TYPE = { sub: 1, paeth: 4 } as const;

/** Filters every row (filter type byte + residuals). */
function filterRows(
  width: number,
  height: number,
  rgb: Uint8Array,
  filter: "paeth" | "sub",
): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(height * (stride + 1));
  const zero = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = rgb.subarray(y * stride, (y + 1) * stride);
    const at = y * (stride + 1);
    const residuals = out.subarray(at + 1, at + 1 + stride);
    out[at] = FILTER_TYPE[filter];
    if (filter === "sub") {
      subRow(row, residuals);
    } else {
      const up = y > 0 ? rgb.subarray((y - 1) * stride, y * stride) : zero;
      paethRow(row, up, residuals);
    }
  }
  return out;
}

/**
 * Compresses PNG image data (zlib format). A deflate that honours `room`
 * leaves that many bytes free around the stream in its buffer, and the PNG
 * is written around it without a copy.
 */
export type Deflate = (
  data: Uint8Array,
  room?: DeflateRoom,
) => Uint8Array | Promise<Uint8Array>;

/** A PNG's bytes before its image data (signature, IHDR, IDAT's head) and after (IDAT's CRC, IEND). */
const PNG_ROOM: Readonly<DeflateRoom> = { before: 8 + 25 + 8, after: 4 + 12 };

/** How a PNG is encoded; every choice gives a valid PNG of the same pixels. */
export interface PngEncoding {
  /** @default streamDeflate (the platform's CompressionStream) */
  deflate?: Deflate;
  /** CRC-32 as zlib computes it; @default a table-driven one in TypeScript */
  crc32?: (bytes: Uint8Array) => number;
  /** The row filter: smallest files, or five times faster. @default "paeth" */
  filter?: "paeth" | "sub";
}

/**
 * zlib through the platform's `CompressionStream` (browsers and Deno).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 1, height: 1, data: new Uint8Array([255, 0, 0]) };
 * const bytes = await encodeRgbPng(image, { deflate: streamDeflate });
 * assert.ok(bytes.length > 8);
 * ```
 */
export async function streamDeflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Encodes an RGB image as an 8-bit truecolour PNG with no metadata: the
 * bytes depend on the pixels only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 1, height: 1, data: new Uint8Array([255, 0, 0]) };
 * const bytes = await encodeRgbPng(image);
 * assert.equal(new TextDecoder().decode(bytes.subarray(1, 4)), "PNG");
 * ```
 */
export async function encodeRgbPng(
  image: RgbImage,
  options: PngEncoding = {},
): Promise<Uint8Array> {
  const { width, height, data: rgb } = image;
  if (rgb.length !== width * height * 3) {
    throw new RangeError(
      `RGB data has ${rgb.length} bytes, expected ${width * height * 3}`,
    );
  }
  const filter = options.filter ?? "paeth";
  return await encodeFilteredPng(
    { width, height, rows: filterRows(width, height, rgb, filter) },
    options,
  );
}

/**
 * Encodes an 8-bit truecolour PNG from rows already filtered (a filter
 * type byte, then the row's residuals): for renderers that filter as they
 * make the pixels. The file is written into one buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // One red pixel, its row Sub-filtered (type 1: a first pixel is itself).
 * const rows = new Uint8Array([1, 255, 0, 0]);
 * const bytes = await encodeFilteredPng({ width: 1, height: 1, rows });
 * assert.deepEqual(bytes, await encodeRgbPng({ width: 1, height: 1, data: rows.subarray(1) }, { filter: "sub" }));
 * ```
 */
export async function encodeFilteredPng(
  image: { width: number; height: number; rows: Uint8Array },
  options: Omit<PngEncoding, "filter"> = {},
): Promise<Uint8Array> {
  const { width, height, rows } = image;
  if (rows.length !== height * (1 + width * 3)) {
    throw new RangeError(
      `Filtered rows have ${rows.length} bytes, expected ${
        height * (1 + width * 3)
      }`,
    );
  }
  const deflate = options.deflate ?? streamDeflate;
  const crc = options.crc32 ?? tableCrc32;
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive, no interlace
  const data = await deflate(rows, PNG_ROOM);
  const total = PNG_ROOM.before + data.length + PNG_ROOM.after;
  const inPlace = data.byteOffset >= PNG_ROOM.before &&
    data.buffer.byteLength - data.byteOffset - data.length >= PNG_ROOM.after;
  const out = inPlace
    ? new Uint8Array(data.buffer, data.byteOffset - PNG_ROOM.before, total)
    : new Uint8Array(total);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = writeChunk(out, 8, { type: "IHDR", data: header }, crc);
  at = writeChunk(out, at, { type: "IDAT", data }, crc);
  writeChunk(out, at, { type: "IEND", data: new Uint8Array() }, crc);
  return out;
}
