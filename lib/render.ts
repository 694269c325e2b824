/**
 * Rendering of explanation maps: colouring, blending over the input image,
 * PNG encoding (`png.ts`) and data URLs.
 *
 * @module
 */
import { base64DataUrl } from "./base64.ts";
import { blendTable, checkAlpha } from "./_blend_tables.ts";
import { colormapLevel, colormapLut } from "./colormap.ts";
import { huffmanDeflate } from "./deflate.ts";
import type { MapGrid } from "./heatmap.ts";
import type { RgbImage } from "./image.ts";
import { encodeFilteredPng, encodeRgbPng, type PngEncoding } from "./png.ts";
import { upsampledRows, type UpsampleSize } from "./resize.ts";
import { colourBlendSubRows, freshRows, keptRowsFor } from "./_sub_rows.ts";

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
      const k = colormapLevel(line[x]) * 3;
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
 * Whether two maps of values in `[0, 1]` render alike at an image's size:
 * upsampled to it, every pixel falls on the same colormap level, so their
 * overlays and coloured maps are the same bytes for any image, colormap and
 * alpha. Maps equal value for value do. So do maps a few ulps apart whose
 * upsampled values round alike, as XGrad-CAM's and Grad-CAM's at a model's
 * last stage (there the gradient is the same at every pixel of a channel,
 * and the two weightings differ only by XGrad-CAM's `1e-7`). Maps a level
 * or more apart anywhere are taken as different without upsampling them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const map = (values: number[]) => ({ width: 2, height: 1, values: new Float32Array(values) });
 * const image = { width: 40, height: 20 };
 * assert.equal(sameRendering(map([0.37, 1]), map([0.37 + 1e-7, 1]), image), true);
 * assert.equal(sameRendering(map([0.37, 1]), map([0.47, 1]), image), false);
 * ```
 */
export function sameRendering(
  a: MapGrid,
  b: MapGrid,
  image: { width: number; height: number },
): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  let equal = true;
  // Within [0, 1] (as scaled maps are) every upsampled value is too, give or
  // take an ulp, and its level is `(v * 255 + 0.5) | 0`: the same as
  // colormapLevel's rounding and clamping, without them (a third the time).
  let unit = true;
  for (let i = 0; i < a.values.length; i++) {
    const va = a.values[i], vb = b.values[i];
    const d = Math.abs(va - vb);
    // A NaN fails this too: such maps are rendered, not compared.
    if (!(d < 1 / 255)) return false;
    if (d !== 0) equal = false;
    if (!(va >= 0 && va <= 1 && vb >= 0 && vb <= 1)) unit = false;
  }
  if (equal) return true;
  const size: UpsampleSize = {
    width: a.width,
    height: a.height,
    outWidth: image.width,
    outHeight: image.height,
  };
  const rowsOfB = upsampledRows(b.values, size);
  for (const rowOfA of upsampledRows(a.values, size)) {
    const rowOfB = rowsOfB.next().value as Float32Array;
    if (unit) {
      for (let x = 0; x < rowOfA.length; x++) {
        if (((rowOfA[x] * 255 + 0.5) | 0) !== ((rowOfB[x] * 255 + 0.5) | 0)) {
          return false;
        }
      }
    } else {
      for (let x = 0; x < rowOfA.length; x++) {
        if (colormapLevel(rowOfA[x]) !== colormapLevel(rowOfB[x])) {
          return false;
        }
      }
    }
  }
  return true;
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
    // rows are read by huffmanDeflate before encodeFilteredPng's first
    // await, so they may go into kept buffers.
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
