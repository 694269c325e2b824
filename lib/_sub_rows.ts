/**
 * PNG rows of an overlay and its coloured map, Sub-filtered as they are
 * upsampled, coloured and blended (for `render.ts`'s `renderPngs`), and the
 * buffers they go into. Private to `render.ts`.
 *
 * @module
 */
import { channelTables, checkAlpha } from "./_blend_tables.ts";
import { colormapLevel, colormapLut } from "./colormap.ts";
import type { MapGrid } from "./heatmap.ts";
import type { RgbImage } from "./image.ts";
import type { RenderOptions } from "./render.ts";
import { upsampledRows } from "./resize.ts";

/**
 * `render.ts`'s `colourAndBlend` writing PNG rows Sub-filtered as it goes (a
 * filter type byte, then each byte minus the one a pixel to its left): no
 * full-size RGB image in between and no second pass over it. The same
 * bytes as filtering `colourAndBlend`'s output. `rowsFor` gives the rows'
 * buffers (kind 0: the overlay's, 1: the heatmap's).
 */
export function colourBlendSubRows(
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
        // colormapLevel(line[x]), written out: as a call it cost a tenth of
        // the whole render (2.2 against 2.0 ms for a 451×300 overlay).
        const q = Math.round(line[x] * 255);
        const level = q > 0 ? (q < 255 ? q : 255) : 0;
        if (heatmap) levels[x] = level;
        const r = red[(level << 8) | data[i]];
        const g = green[(level << 8) | data[i + 1]];
        const b = blue[(level << 8) | data[i + 2]];
        overlay[o] = r - pr;
        overlay[o + 1] = g - pg;
        overlay[o + 2] = b - pb;
        pr = r;
        pg = g;
        pb = b;
      }
    } else {
      for (let x = 0; x < width; x++) levels[x] = colormapLevel(line[x]);
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

/** New rows buffers each call. */
export function freshRows(_kind: 0 | 1, size: number): Uint8Array {
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
export function keptRowsFor(kind: 0 | 1, size: number): Uint8Array {
  if (size > MAX_KEPT_ROWS) return new Uint8Array(size);
  if (keptRows[kind].length < size) keptRows[kind] = new Uint8Array(size);
  return keptRows[kind].subarray(0, size);
}
