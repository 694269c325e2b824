/**
 * Rendering of explanation maps: colouring, blending over the input image,
 * PNG encoding (`png.ts`) and data URLs.
 *
 * @module
 */
import { base64DataUrl } from "./base64.ts";
import { colormapLut } from "./colormap.ts";
import { huffmanDeflate } from "./deflate.ts";
import { clientError } from "./errors.ts";
import type { MapGrid } from "./heatmap.ts";
import type { RgbImage } from "./image.ts";
import { encodeFilteredPng, encodeRgbPng, type PngEncoding } from "./png.ts";
import { upsampledRows } from "./resize.ts";

/**
 * Options for {@link renderExplanation}, {@link renderExplanationRgb} and
 * {@link renderPngs} (`alpha` also for {@link blend}).
 */
export interface RenderOptions {
  /**
   * Colormap name, see `COLORMAPS`.
   *
   * @default {"jet"}
   */
  colormap?: string;
  /**
   * Weight of the coloured map in the overlay, in `[0, 1]`.
   *
   * @default {0.3}
   */
  alpha?: number;
}

/** Raw RGB renderings at the image's size. */
export interface RenderedRgb {
  /** Coloured map blended over the image. */
  overlay: Uint8Array;
  /** Coloured map alone. */
  heatmap: Uint8Array;
}

/** PNG data URLs of an explanation. */
export interface RenderedExplanation {
  /** Coloured map blended over the image. */
  overlay: string;
  /** Coloured map alone. */
  heatmap: string;
}

function checkAlpha(alpha: number): void {
  if (!(alpha >= 0 && alpha <= 1)) {
    throw clientError(
      "BAD_USER_INPUT",
      `alpha must be between 0 and 1, got ${alpha}`,
    );
  }
}

/**
 * Every (image byte, colour byte) pair's blend once, in a 64 KiB table
 * indexed `(image << 8) | colour`: the same expression as per byte, so the
 * same bytes, without per-byte arithmetic.
 */
function blendTable(alpha: number): Uint8Array {
  if (lastBlend?.alpha === alpha) return lastBlend.table;
  const table = new Uint8Array(256 * 256);
  for (let v = 0; v < 256; v++) {
    const kept = (1 - alpha) * v;
    for (let c = 0; c < 256; c++) {
      table[(v << 8) | c] = Math.round(kept + alpha * c);
    }
  }
  lastBlend = { alpha, table };
  return table;
}

/** The last table made: a request renders all its maps with one alpha. */
let lastBlend: { alpha: number; table: Uint8Array } | null = null;

/**
 * Blends RGB colours over an image, per byte
 * `round((1 - alpha) * image + alpha * colour)`. `colored` must have the
 * image's size. Throws `BAD_USER_INPUT` when `alpha` is outside `[0, 1]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 1, height: 1, data: new Uint8Array([200, 100, 0]) };
 * assert.deepEqual(
 *   blend(image, new Uint8Array([0, 0, 255]), { alpha: 0.5 }),
 *   new Uint8Array([100, 50, 128]),
 * );
 * ```
 */
export function blend(
  image: RgbImage,
  colored: Uint8Array,
  options: Pick<RenderOptions, "alpha"> = {},
): Uint8Array {
  const alpha = options.alpha ?? 0.3;
  checkAlpha(alpha);
  const { data } = image;
  if (colored.length !== data.length) {
    throw new RangeError(
      `Colour data has ${colored.length} bytes, the image ${data.length}`,
    );
  }
  const table = blendTable(alpha);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = table[(data[i] << 8) | colored[i]];
  }
  return out;
}

/**
 * Encodes an RGB image as an 8-bit truecolour PNG (opaque, no metadata, so
 * the output depends on the pixels only), with lib/png.ts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 1, height: 1, data: new Uint8Array([255, 0, 0]) };
 * const bytes = await encodePng(image);
 * assert.equal(new TextDecoder().decode(bytes.subarray(1, 4)), "PNG");
 * ```
 */
export function encodePng(
  image: RgbImage,
  options: PngEncoding = {},
): Promise<Uint8Array> {
  return encodeRgbPng(image, options);
}

/**
 * Wraps PNG bytes in a `data:image/png;base64,` URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   toDataUrl(new Uint8Array([0x89, 0x50, 0x4e, 0x47])),
 *   "data:image/png;base64,iVBORw==",
 * );
 * ```
 */
export function toDataUrl(png: Uint8Array): string {
  return base64DataUrl(png, "image/png");
}

/**
 * Upsamples a map of values in `[0, 1]` (any size) to the image's size
 * (bilinear, as OpenCV), colours it and blends it over the image. Throws
 * `BAD_USER_INPUT` for an alpha outside `[0, 1]` and `UNKNOWN_COLORMAP` for
 * an unknown colormap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 2, height: 1, data: new Uint8Array(6) };
 * const map = { values: new Float32Array([0]), width: 1, height: 1 };
 * const { heatmap } = renderExplanationRgb(image, map);
 * assert.deepEqual(heatmap, new Uint8Array([0, 0, 128, 0, 0, 128])); // jet at 0
 * ```
 */
export function renderExplanationRgb(
  image: RgbImage,
  map: MapGrid,
  options: RenderOptions = {},
): RenderedRgb {
  const { overlay, heatmap } = colourAndBlend(image, map, {
    ...options,
    heatmap: true,
  });
  return { overlay, heatmap: heatmap! };
}

/**
 * Upsampling, colouring and blending fused, row by row: the arithmetic of
 * `upsampleBilinear`, `applyColormap` and `blend` one after the other (so
 * the same bytes as the browser, which runs them one by one to re-blend
 * without upsampling again), without the full-size float map and colour
 * image in between; the coloured map only when asked for.
 */
function colourAndBlend(
  image: RgbImage,
  map: MapGrid,
  options: RenderOptions & { heatmap: boolean },
): { overlay: Uint8Array; heatmap: Uint8Array | null } {
  const alpha = options.alpha ?? 0.3;
  checkAlpha(alpha);
  const lut = colormapLut(options.colormap ?? "jet");
  const table = blendTable(alpha);
  const { width, height, data } = image;
  const overlay = new Uint8Array(width * height * 3);
  const heatmap = options.heatmap ? new Uint8Array(width * height * 3) : null;
  let i = 0;
  const size = {
    width: map.width,
    height: map.height,
    outWidth: width,
    outHeight: height,
  };
  for (const line of upsampledRows(map.values, size)) {
    for (let x = 0; x < width; x++, i += 3) {
      const q = Math.round(line[x] * 255);
      const k = q > 0 ? (q < 255 ? q : 255) * 3 : 0;
      const r = lut[k], g = lut[k + 1], b = lut[k + 2];
      overlay[i] = table[(data[i] << 8) | r];
      overlay[i + 1] = table[(data[i + 1] << 8) | g];
      overlay[i + 2] = table[(data[i + 2] << 8) | b];
      if (heatmap) {
        heatmap[i] = r;
        heatmap[i + 1] = g;
        heatmap[i + 2] = b;
      }
    }
  }
  return { overlay, heatmap };
}

/**
 * The blend table composed with a colormap, one table per channel: entry
 * `(image << 8) | level` is the blend of that image byte with the colour of
 * map level `level` in that channel. The same bytes as looking the colour
 * up and then the blend, with two lookups fewer per byte.
 */
function channelTables(
  alpha: number,
  colormap: string,
): [Uint8Array, Uint8Array, Uint8Array] {
  if (lastChannels?.alpha === alpha && lastChannels.colormap === colormap) {
    return lastChannels.tables;
  }
  const lut = colormapLut(colormap);
  const table = blendTable(alpha);
  const tables: [Uint8Array, Uint8Array, Uint8Array] = [
    new Uint8Array(256 * 256),
    new Uint8Array(256 * 256),
    new Uint8Array(256 * 256),
  ];
  for (let channel = 0; channel < 3; channel++) {
    const out = tables[channel];
    for (let v = 0; v < 256; v++) {
      for (let level = 0; level < 256; level++) {
        out[(v << 8) | level] = table[(v << 8) | lut[level * 3 + channel]];
      }
    }
  }
  lastChannels = { alpha, colormap, tables };
  return tables;
}

/** The last channel tables made: a request renders all its maps alike. */
let lastChannels: {
  alpha: number;
  colormap: string;
  tables: [Uint8Array, Uint8Array, Uint8Array];
} | null = null;

/**
 * {@linkcode colourAndBlend} writing PNG rows Sub-filtered as it goes (a
 * filter type byte, then each byte minus the one a pixel to its left): no
 * full-size RGB image in between and no second pass over it. The same
 * bytes as filtering `colourAndBlend`'s output.
 */
function colourBlendSubRows(
  image: RgbImage,
  map: MapGrid,
  options: RenderOptions & { overlay: boolean; heatmap: boolean },
  rowsFor: (kind: 0 | 1, size: number) => Uint8Array = freshRows,
): { overlay: Uint8Array | null; heatmap: Uint8Array | null } {
  const alpha = options.alpha ?? 0.3;
  checkAlpha(alpha);
  const colormap = options.colormap ?? "jet";
  const lut = colormapLut(colormap);
  const { width, height, data } = image;
  const stride = 1 + width * 3;
  const overlay = options.overlay ? rowsFor(0, height * stride) : null;
  const heatmap = options.heatmap ? rowsFor(1, height * stride) : null;
  const [red, green, blue] = overlay
    ? channelTables(alpha, colormap)
    : [lut, lut, lut];
  const size = {
    width: map.width,
    height: map.height,
    outWidth: width,
    outHeight: height,
  };
  // Each pixel's map level (0–255), per row.
  const levels = new Uint8Array(width);
  let row = 0;
  for (const line of upsampledRows(map.values, size)) {
    const src = row * width * 3;
    const at = row * stride;
    // Sub: each byte minus the one a pixel to its left (0 for the first).
    if (overlay) {
      overlay[at] = 1;
      let pr = 0, pg = 0, pb = 0;
      for (let x = 0, i = src, o = at + 1; x < width; x++, i += 3, o += 3) {
        const q = Math.round(line[x] * 255);
        const level = q > 0 ? (q < 255 ? q : 255) : 0;
        if (heatmap) levels[x] = level;
        const r = red[(data[i] << 8) | level];
        const g = green[(data[i + 1] << 8) | level];
        const b = blue[(data[i + 2] << 8) | level];
        overlay[o] = r - pr;
        overlay[o + 1] = g - pg;
        overlay[o + 2] = b - pb;
        pr = r;
        pg = g;
        pb = b;
      }
    } else {
      for (let x = 0; x < width; x++) {
        const q = Math.round(line[x] * 255);
        levels[x] = q > 0 ? (q < 255 ? q : 255) : 0;
      }
    }
    if (heatmap) {
      heatmap[at] = 1;
      let pr = 0, pg = 0, pb = 0;
      for (let x = 0, o = at + 1; x < width; x++, o += 3) {
        const k = levels[x] * 3;
        const r = lut[k], g = lut[k + 1], b = lut[k + 2];
        heatmap[o] = r - pr;
        heatmap[o + 1] = g - pg;
        heatmap[o + 2] = b - pb;
        pr = r;
        pg = g;
        pb = b;
      }
    }
    row++;
  }
  return { overlay, heatmap };
}

function freshRows(_kind: 0 | 1, size: number): Uint8Array {
  return new Uint8Array(size);
}

/** Rows kept up to this size (a 451×300 image's are 406 KB; 4 MiB is a 1.4 MP image). */
const MAX_KEPT_ROWS = 4 * 1024 * 1024;
/** The overlay's and the heatmap's rows, kept between calls. */
const keptRows: [Uint8Array, Uint8Array] = [
  new Uint8Array(0),
  new Uint8Array(0),
];

/**
 * Rows buffers kept between calls (every byte is written before it is
 * read): for `huffmanDeflate`, which has read the rows when it returns,
 * before any other call can fill them again. Fresh buffers of this size
 * each call are memory the garbage collector is told about and reacts to.
 */
function keptRowsFor(kind: 0 | 1, size: number): Uint8Array {
  if (size > MAX_KEPT_ROWS) return new Uint8Array(size);
  if (keptRows[kind].length < size) keptRows[kind] = new Uint8Array(size);
  return keptRows[kind].subarray(0, size);
}

/** Which PNGs {@linkcode renderPngs} encodes, and how. */
export interface PngChoice extends PngEncoding {
  /** The coloured map blended over the image. */
  overlay: boolean;
  /** The coloured map alone. */
  heatmap: boolean;
}

/** PNG bytes of an explanation; only those asked for. */
export interface RenderedPngs {
  overlay?: Uint8Array;
  heatmap?: Uint8Array;
}

/**
 * Renders a map over its image (see {@link renderExplanationRgb}) and
 * encodes only the PNGs asked for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 14, height: 14, data: new Uint8Array(14 * 14 * 3) };
 * const map = { values: new Float32Array(7 * 7).fill(1), width: 7, height: 7 };
 * const pngs = await renderPngs(image, map, {
 *   colormap: "jet", alpha: 0.3, overlay: true, heatmap: false,
 * });
 * assert.deepEqual(Object.keys(pngs), ["overlay"]);
 * ```
 */
export async function renderPngs(
  image: RgbImage,
  map: MapGrid,
  options: RenderOptions & PngChoice,
): Promise<RenderedPngs> {
  const { deflate, crc32, filter } = options;
  if (!options.overlay && !options.heatmap) {
    checkAlpha(options.alpha ?? 0.3);
    colormapLut(options.colormap ?? "jet"); // validates the name
    return {};
  }
  const png: PngEncoding = {
    ...(deflate ? { deflate } : {}),
    ...(crc32 ? { crc32 } : {}),
    ...(filter ? { filter } : {}),
  };
  const { width, height } = image;
  let overlay: Uint8Array | null;
  let heatmap: Uint8Array | null;
  if (filter === "sub") {
    // Filtered while blended: one pass and one buffer less per PNG. The
    // rows are read by the deflate before encodeFilteredPng's first await.
    const rows = colourBlendSubRows(
      image,
      map,
      options,
      deflate === huffmanDeflate ? keptRowsFor : freshRows,
    );
    [overlay, heatmap] = await Promise.all(
      [rows.overlay, rows.heatmap].map((r) =>
        r ? encodeFilteredPng({ width, height, rows: r }, png) : null
      ),
    );
  } else {
    const rgb = colourAndBlend(image, map, {
      ...options,
      heatmap: options.heatmap,
    });
    [overlay, heatmap] = await Promise.all([
      options.overlay
        ? encodePng({ width, height, data: rgb.overlay }, png)
        : null,
      rgb.heatmap ? encodePng({ width, height, data: rgb.heatmap }, png) : null,
    ]);
  }
  return {
    ...(overlay ? { overlay } : {}),
    ...(heatmap ? { heatmap } : {}),
  };
}

/**
 * Renders an explanation map over its image as two PNG data URLs: the
 * overlay (coloured map blended over the image with `alpha`) and the
 * coloured map alone, both at the image's original size. See
 * {@link renderExplanationRgb} for validation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 14, height: 14, data: new Uint8Array(14 * 14 * 3) };
 * const map = { values: new Float32Array(7 * 7).fill(1), width: 7, height: 7 };
 * const { overlay, heatmap } = await renderExplanation(image, map, {
 *   colormap: "viridis",
 *   alpha: 0.4,
 * });
 * assert.equal(overlay.startsWith("data:image/png;base64,"), true);
 * assert.equal(heatmap.startsWith("data:image/png;base64,"), true);
 * ```
 */
export async function renderExplanation(
  image: RgbImage,
  map: MapGrid,
  options: RenderOptions = {},
): Promise<RenderedExplanation> {
  const rgb = renderExplanationRgb(image, map, options);
  const { width, height } = image;
  const [overlay, heatmap] = await Promise.all([
    encodePng({ width, height, data: rgb.overlay }),
    encodePng({ width, height, data: rgb.heatmap }),
  ]);
  return { overlay: toDataUrl(overlay), heatmap: toDataUrl(heatmap) };
}
