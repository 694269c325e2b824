/**
 * PNG samples to 8-bit RGB for `png_decode.ts`: bit unpacking, palettes,
 * 16-bit samples (their high byte), and transparency composited over white.
 *
 * @module
 */

/** IHDR fields the decoder needs. */
export interface Header {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  colorType: number;
}

/** What the conversion needs besides the rows. */
export interface PngInfo {
  /** The image header. */
  header: Header;
  /** Palette entries, 3 bytes each; empty when there is none. */
  palette: Uint8Array;
  /** The raw `tRNS` chunk data, or null. */
  transparency: Uint8Array | null;
}

/**
 * Samples per pixel, by colour type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(CHANNELS[6], 4); // RGBA
 * ```
 */
export const CHANNELS: Readonly<Record<number, number>> = {
  0: 1,
  2: 3,
  3: 1,
  4: 2,
  6: 4,
};

/** `flattenTable[(a << 8) | c]`: sample c at alpha a composited over white. */
let flattenTable: Uint8Array | undefined;

/** The same arithmetic as `flattenRgba` in `image.ts`, tabulated. */
function flatten(): Uint8Array {
  if (flattenTable === undefined) {
    flattenTable = new Uint8Array(65536);
    for (let a = 0; a < 256; a++) {
      for (let c = 0; c < 256; c++) {
        flattenTable[(a << 8) | c] = a === 255
          ? c
          : Math.round((c * a + 255 * (255 - a)) / 255);
      }
    }
  }
  return flattenTable;
}

/**
 * RGB for each 1-8-bit sample value: palette entries (composited over white
 * with their `tRNS` alpha; indices past the palette are black, as libpng and
 * imagescript make them), or gray levels scaled to 8 bits (white for the
 * `tRNS` gray).
 */
function sampleColours(info: PngInfo): Uint8Array {
  const { header: { bitDepth, colorType }, palette, transparency } = info;
  const colours = new Uint8Array(256 * 3);
  if (colorType === 3) {
    const table = flatten();
    for (let i = 0; i < palette.length / 3; i++) {
      const a = transparency !== null && i < transparency.length
        ? transparency[i]
        : 255;
      for (let k = 0; k < 3; k++) {
        colours[i * 3 + k] = table[(a << 8) | palette[i * 3 + k]];
      }
    }
    return colours;
  }
  const levels = 1 << bitDepth;
  const key = transparency?.length === 2
    ? (transparency[0] << 8) | transparency[1]
    : -1;
  for (let v = 0; v < levels; v++) {
    colours.fill(v === key ? 255 : v * 255 / (levels - 1), v * 3, v * 3 + 3);
  }
  return colours;
}

/**
 * 1, 2, 4 and 8-bit gray and palette rows (unfiltered, each after its
 * filter byte) through a colour table, into a new RGB buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const header = { width: 2, height: 1, bitDepth: 1, colorType: 0 };
 * const info = { header, palette: new Uint8Array(0), transparency: null };
 * assert.deepEqual(
 *   convertIndexed(new Uint8Array([0, 0b1000_0000]), info),
 *   new Uint8Array([255, 255, 255, 0, 0, 0]),
 * );
 * ```
 */
export function convertIndexed(rows: Uint8Array, info: PngInfo): Uint8Array {
  const { width, height, bitDepth } = info.header;
  const out = new Uint8Array(width * height * 3);
  const colours = sampleColours(info);
  const rowBytes = Math.ceil(width * bitDepth / 8);
  const perByte = 8 / bitDepth;
  const mask = (1 << bitDepth) - 1;
  for (let y = 0, o = 0; y < height; y++) {
    const p = y * (rowBytes + 1) + 1;
    if (bitDepth === 8) {
      for (let x = 0; x < width; x++, o += 3) {
        const v = rows[p + x] * 3;
        out[o] = colours[v];
        out[o + 1] = colours[v + 1];
        out[o + 2] = colours[v + 2];
      }
      continue;
    }
    for (let x = 0; x < width; x++, o += 3) {
      const byte = rows[p + ((x / perByte) | 0)];
      const v = ((byte >> (8 - bitDepth * (1 + (x % perByte)))) & mask) * 3;
      out[o] = colours[v];
      out[o + 1] = colours[v + 1];
      out[o + 2] = colours[v + 2];
    }
  }
  return out;
}

/**
 * The `tRNS` colour of a gray or RGB image as bytes at the file's depth (a
 * 16-bit key is compared whole), or null: none, or out of range at 8 bits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const header = { width: 1, height: 1, bitDepth: 8, colorType: 2 };
 * const transparency = new Uint8Array([0, 1, 0, 2, 0, 3]);
 * assert.deepEqual(
 *   transparentKey({ header, palette: new Uint8Array(0), transparency }),
 *   new Uint8Array([1, 2, 3]),
 * );
 * ```
 */
export function transparentKey(info: PngInfo): Uint8Array | null {
  const { header: { bitDepth, colorType }, transparency: key } = info;
  const samples = colorType === 0 ? 1 : colorType === 2 ? 3 : 0;
  if (key === null || samples === 0 || key.length !== 2 * samples) return null;
  if (bitDepth === 16) return key;
  const want = new Uint8Array(samples);
  for (let k = 0; k < samples; k++) {
    if (key[2 * k] !== 0) return null;
    want[k] = key[2 * k + 1];
  }
  return want;
}

/**
 * Gray + alpha, RGBA and 16-bit gray / RGB rows (`step` 1 or 2: the high
 * byte of 16-bit samples). With 3 or more bytes per pixel the output is
 * written over the rows themselves: a pixel's samples are all read before
 * its 3 bytes are written, and those never reach a later pixel's bytes
 * (writes start at byte 0, reads a filter byte later, and writes advance 3
 * bytes per pixel to the reads' 3 or more).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const header = { width: 1, height: 1, bitDepth: 8, colorType: 6 };
 * const info = { header, palette: new Uint8Array(0), transparency: null };
 * // One RGBA pixel at alpha 51, after its filter byte.
 * const rgb = convertDirect(new Uint8Array([0, 0, 0, 0, 51]), info);
 * assert.deepEqual(rgb.subarray(0, 3), new Uint8Array([204, 204, 204]));
 * ```
 */
export function convertDirect(rows: Uint8Array, info: PngInfo): Uint8Array {
  const { width, height, bitDepth, colorType } = info.header;
  const step = bitDepth >> 3;
  const pixelBytes = CHANNELS[colorType] * step;
  const rowBytes = width * pixelBytes;
  const out = pixelBytes >= 3 ? rows : new Uint8Array(width * height * 3);
  const gray = colorType === 0 || colorType === 4;
  const g = gray ? 0 : step;
  const b = gray ? 0 : 2 * step;
  const table = flatten();
  const key = transparentKey(info);
  for (let y = 0, o = 0; y < height; y++) {
    const p = y * (rowBytes + 1) + 1;
    const end = p + rowBytes;
    if (colorType === 4 || colorType === 6) {
      const ai = pixelBytes - step;
      for (let i = p; i < end; i += pixelBytes, o += 3) {
        const a = rows[i + ai] << 8;
        const r = table[a | rows[i]];
        const gv = table[a | rows[i + g]];
        const bv = table[a | rows[i + b]];
        out[o] = r;
        out[o + 1] = gv;
        out[o + 2] = bv;
      }
    } else if (key !== null) {
      for (let i = p; i < end; i += pixelBytes, o += 3) {
        let k = 0;
        while (k < pixelBytes && rows[i + k] === key[k]) k++;
        const hit = k === pixelBytes;
        const r = hit ? 255 : rows[i];
        const gv = hit ? 255 : rows[i + g];
        const bv = hit ? 255 : rows[i + b];
        out[o] = r;
        out[o + 1] = gv;
        out[o + 2] = bv;
      }
    } else {
      for (let i = p; i < end; i += pixelBytes, o += 3) {
        const r = rows[i];
        const gv = rows[i + g];
        const bv = rows[i + b];
        out[o] = r;
        out[o + 1] = gv;
        out[o + 2] = bv;
      }
    }
  }
  return out;
}

/**
 * Turns 8-bit RGB pixels equal to the key white, in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rgb = new Uint8Array([1, 2, 3, 4, 5, 6]);
 * whitenRgb(rgb, new Uint8Array([1, 2, 3]));
 * assert.deepEqual(rgb, new Uint8Array([255, 255, 255, 4, 5, 6]));
 * ```
 */
export function whitenRgb(rgb: Uint8Array, key: Uint8Array): void {
  const [r, g, b] = key;
  for (let o = 0; o < rgb.length; o += 3) {
    if (rgb[o] === r && rgb[o + 1] === g && rgb[o + 2] === b) {
      rgb[o] = rgb[o + 1] = rgb[o + 2] = 255;
    }
  }
}
