/**
 * Image header sniffing and decoding of PNG / JPEG bytes into 8-bit RGB.
 *
 * Headers are parsed by hand so that oversized or malformed files are
 * rejected before the decoder allocates anything. PNG pixels are decoded by
 * our own decoder on the platform's zlib (`png_decode.ts`; Adam7-interlaced
 * files by imagescript's), JPEG by imagescript's WebAssembly decoder.
 *
 * imagescript's main entry point loads a native addon at import time (which
 * needs `--allow-ffi`), so only its WebAssembly decoders are imported here;
 * they need `--allow-read` (to load the `.wasm` files from `node_modules`)
 * and `--allow-env`.
 *
 * @module
 */
import { crc32 as zlibCrc32 } from "node:zlib";
import pngWasm from "imagescript/wasm/node/png.js";
import jpegWasm from "imagescript/wasm/node/jpeg.js";

import { ClientError, clientError } from "./errors.ts";
import { decodePng, isInterlacedPng } from "./png_decode.ts";

/** imagescript's WebAssembly PNG decoder (untyped CommonJS module). */
interface PngDecoder {
  /** Returns RGBA pixels; throws on failure. */
  decode(bytes: Uint8Array): {
    width: number;
    height: number;
    framebuffer: Uint8Array;
  };
}

/** imagescript's WebAssembly JPEG decoder (untyped CommonJS module). */
interface JpegDecoder {
  /**
   * Returns gray (format 0), RGB (1) or inverted CMYK (2) samples; throws on
   * failure.
   */
  decode(bytes: Uint8Array): {
    width: number;
    height: number;
    format: number;
    buffer: Uint8Array;
  };
}

/** Each `init()` returns a fresh instance (own memory) of a shared module. */
const decoders = {
  png: pngWasm as { init(): Promise<PngDecoder> },
  jpeg: jpegWasm as { init(): Promise<JpegDecoder> },
};

/** An 8-bit RGB image: 3 bytes per pixel, rows top to bottom. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3` bytes, RGB, row-major. */
  data: Uint8Array;
}

/** The image formats the API accepts. */
export type ImageFormat = "png" | "jpeg";

/** Format and dimensions read from an image's header. */
export interface ImageHeader {
  /** The container format. */
  format: ImageFormat;
  /** Width in pixels, at least 1. */
  width: number;
  /** Height in pixels, at least 1. */
  height: number;
}

/** Options for {@link decodeImage}. */
export interface DecodeImageOptions {
  /**
   * Largest accepted `width * height`.
   *
   * @default {40_000_000}
   */
  maxPixels?: number;
}

/** Default for {@link DecodeImageOptions.maxPixels}. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Signature (8) + IHDR length and type (8) + IHDR data (13) + CRC (4). */
const PNG_HEADER_BYTES = 33;

function invalid(detail: string): never {
  throw clientError("INVALID_IMAGE", `Cannot decode image: ${detail}`);
}

function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset] * 0x1000000 +
    ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3])
  );
}

function chunkType(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(
    bytes[offset],
    bytes[offset + 1],
    bytes[offset + 2],
    bytes[offset + 3],
  );
}

/** True when `bytes` starts with `prefix`, or with as much of it as fits. */
function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

function checkDimensions(width: number, height: number): void {
  if (width === 0 || height === 0) {
    invalid(`image has zero size (${width}x${height})`);
  }
}

function readPngHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < PNG_HEADER_BYTES) invalid("PNG header is truncated");
  if (readU32(bytes, 8) !== 13 || chunkType(bytes, 12) !== "IHDR") {
    invalid("PNG header is malformed: the first chunk is not IHDR");
  }
  const width = readU32(bytes, 16);
  const height = readU32(bytes, 20);
  if (width > 0x7fffffff || height > 0x7fffffff) {
    invalid("PNG header is malformed: dimensions exceed 2^31-1");
  }
  checkDimensions(width, height);
  return { format: "png", width, height };
}

/** Result of walking a JPEG's marker segments. */
interface JpegLayout {
  width: number;
  height: number;
  /** Offset just past the start-of-scan marker, or -1 if not walked to. */
  scanOffset: number;
}

/** True for SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 &&
    marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Walks the marker segments after SOI up to the frame header (and, with
 * `untilScan`, on to the first start-of-scan marker).
 */
function walkJpeg(bytes: Uint8Array, untilScan: boolean): JpegLayout {
  let width = -1;
  let height = -1;
  let pos = 2;
  for (;;) {
    if (pos >= bytes.length) invalid("JPEG header is truncated");
    if (bytes[pos] !== 0xff) {
      invalid(`JPEG header is malformed: expected a marker at byte ${pos}`);
    }
    while (pos < bytes.length && bytes[pos] === 0xff) pos++; // fill bytes
    if (pos >= bytes.length) invalid("JPEG header is truncated");
    const marker = bytes[pos++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xda && width >= 0) {
      return { width, height, scanOffset: pos };
    }
    if (marker === 0xda || marker === 0xd9) {
      invalid("JPEG header is malformed: no frame header before the scan");
    }
    if (marker === 0x00 || marker === 0xd8) {
      invalid(`JPEG header is malformed: unexpected marker at byte ${pos - 2}`);
    }
    if (pos + 2 > bytes.length) invalid("JPEG header is truncated");
    const length = readU16(bytes, pos);
    if (length < 2) invalid("JPEG header is malformed: bad segment length");
    if (isStartOfFrame(marker) && width < 0) {
      // Segment: length (2), precision (1), height (2), width (2), ...
      if (pos + 7 > bytes.length) invalid("JPEG header is truncated");
      height = readU16(bytes, pos + 3);
      width = readU16(bytes, pos + 5);
      checkDimensions(width, height);
      if (!untilScan) return { width, height, scanOffset: -1 };
    }
    pos += length;
  }
}

/**
 * Reads an image's format and size from its first bytes, without decoding.
 *
 * Recognises PNG (signature and IHDR chunk) and JPEG (SOI, then the marker
 * segments up to the first SOF0..SOF15 frame header). Throws a client error
 * with code `INVALID_IMAGE` for empty input, any other format, and truncated
 * or malformed headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const header = readImageHeader(await Deno.readFile("tests/fixtures/chelsea.png"));
 * assert.deepEqual(header, { format: "png", width: 451, height: 300 });
 * ```
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) invalid("the file is empty");
  if (startsWith(bytes, PNG_SIGNATURE)) {
    if (bytes.length < PNG_SIGNATURE.length) invalid("PNG header is truncated");
    return readPngHeader(bytes);
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    if (bytes.length < 3) invalid("JPEG header is truncated");
    const { width, height } = walkJpeg(bytes, false);
    return { format: "jpeg", width, height };
  }
  return invalid("not a PNG or JPEG file");
}

/** CRC-32 of `bytes[start, end)` (zlib's, native: 50–100× faster than a JavaScript loop). */
function crc32(bytes: Uint8Array, start: number, end: number): number {
  return zlibCrc32(bytes.subarray(start, end)) >>> 0;
}

/**
 * Checks the chunk structure: every chunk fits in the file, critical chunks
 * have correct CRCs, there is image data and the file reaches IEND (the
 * decoder alone accepts a file cut just before IEND).
 */
function checkPngChunks(bytes: Uint8Array): void {
  let pos = PNG_SIGNATURE.length;
  let sawData = false;
  for (;;) {
    if (pos + 12 > bytes.length) invalid("PNG data is truncated");
    const length = readU32(bytes, pos);
    const type = chunkType(bytes, pos + 4);
    const end = pos + 8 + length;
    if (length > 0x7fffffff || end + 4 > bytes.length) {
      invalid("PNG data is truncated");
    }
    const critical = (bytes[pos + 4] & 0x20) === 0;
    if (critical && crc32(bytes, pos + 4, end) !== readU32(bytes, end)) {
      invalid(`PNG chunk ${type} is corrupt (bad CRC)`);
    }
    if (type === "IDAT") sawData = true;
    if (type === "IEND") break;
    pos = end + 4;
  }
  if (!sawData) invalid("PNG has no image data");
}

/** The scan must be followed by an EOI marker; trailing bytes are allowed. */
function checkJpegEnd(bytes: Uint8Array): void {
  const { scanOffset } = walkJpeg(bytes, true);
  for (let i = bytes.length - 2; i >= scanOffset; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return;
  }
  invalid("JPEG data is truncated (no end-of-image marker)");
}

/** RGBA to RGB, compositing over white. */
function flattenRgba(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    const o = i * 4;
    const a = rgba[o + 3];
    if (a === 255) {
      rgb[j] = rgba[o];
      rgb[j + 1] = rgba[o + 1];
      rgb[j + 2] = rgba[o + 2];
    } else {
      const white = 255 * (255 - a);
      rgb[j] = Math.round((rgba[o] * a + white) / 255);
      rgb[j + 1] = Math.round((rgba[o + 1] * a + white) / 255);
      rgb[j + 2] = Math.round((rgba[o + 2] * a + white) / 255);
    }
  }
  return rgb;
}

/** Gray, RGB or inverted-CMYK JPEG samples to RGB. */
function jpegToRgb(format: number, samples: Uint8Array, pixels: number) {
  if (format === 1) return samples.slice(0, pixels * 3);
  const rgb = new Uint8Array(pixels * 3);
  if (format === 0) {
    for (let i = 0; i < pixels; i++) rgb.fill(samples[i], i * 3, i * 3 + 3);
  } else if (format === 2) {
    for (let i = 0, j = 0; i < pixels; i++, j += 3) {
      const k = 255 - samples[i * 4 + 3];
      rgb[j] = Math.round((255 - samples[i * 4]) * k / 255);
      rgb[j + 1] = Math.round((255 - samples[i * 4 + 1]) * k / 255);
      rgb[j + 2] = Math.round((255 - samples[i * 4 + 2]) * k / 255);
    }
  } else {
    invalid(`unsupported JPEG colour format ${format}`);
  }
  return rgb;
}

async function decodePixels(
  format: ImageFormat,
  bytes: Uint8Array,
): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  if (format === "png") {
    // Our decoder (native inflate): 2-3x faster than imagescript's, and it
    // decodes extreme shapes (1x20,000,000) that imagescript rejected.
    // Adam7-interlaced files, rare in uploads, still go through imagescript.
    if (!isInterlacedPng(bytes)) {
      const { width, height, data } = decodePng(bytes);
      return { width, height, rgb: data };
    }
    const decoded = (await decoders.png.init()).decode(bytes);
    const pixels = decoded.width * decoded.height;
    if (decoded.framebuffer.length < pixels * 4) {
      invalid("PNG decoder returned too little data");
    }
    return { ...decoded, rgb: flattenRgba(decoded.framebuffer, pixels) };
  }
  const decoded = (await decoders.jpeg.init()).decode(bytes);
  const pixels = decoded.width * decoded.height;
  const channels = [1, 3, 4][decoded.format] ?? 0;
  if (decoded.buffer.length < pixels * channels) {
    invalid("JPEG decoder returned too little data");
  }
  return {
    width: decoded.width,
    height: decoded.height,
    rgb: jpegToRgb(decoded.format, decoded.buffer, pixels),
  };
}

/**
 * Decodes PNG or JPEG bytes into an 8-bit RGB image.
 *
 * The header is read first: a file larger than `maxPixels` is rejected with
 * `IMAGE_TOO_LARGE` (extensions `{ limit, pixels }`) before anything is
 * decoded or allocated. Grayscale, palette, 16-bit and alpha PNGs and
 * grayscale / RGB / CMYK JPEGs are accepted; 16-bit samples keep their high
 * byte, and transparency is composited over white. EXIF orientation is not
 * applied. Truncated or corrupt files (including PNG chunks with bad CRCs and
 * JPEGs without an end-of-image marker) throw `INVALID_IMAGE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = await decodeImage(await Deno.readFile("tests/fixtures/chelsea.png"));
 * assert.equal(image.width, 451);
 * assert.equal(image.data.length, 451 * 300 * 3);
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeImageOptions = {},
): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) {
    throw new RangeError(`maxPixels must be positive, got ${maxPixels}`);
  }
  const { format, width, height } = readImageHeader(bytes);
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw clientError(
      "IMAGE_TOO_LARGE",
      `Image is too large: ${width}x${height} is ${pixels} pixels, ` +
        `the limit is ${maxPixels}`,
      { limit: maxPixels, pixels },
    );
  }
  if (format === "png") checkPngChunks(bytes);
  else checkJpegEnd(bytes);

  let decoded: { width: number; height: number; rgb: Uint8Array };
  try {
    decoded = await decodePixels(format, bytes);
  } catch (error) {
    if (error instanceof ClientError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return invalid(`corrupt ${format.toUpperCase()} data (${reason})`);
  }
  if (decoded.width !== width || decoded.height !== height) {
    invalid(
      `decoded size ${decoded.width}x${decoded.height} does not match ` +
        `the header's ${width}x${height}`,
    );
  }
  return { width, height, data: decoded.rgb };
}
