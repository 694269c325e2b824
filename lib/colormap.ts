/**
 * Colormaps for heatmaps: lookup tables identical to OpenCV's
 * `cv2.applyColorMap` (converted to RGB) plus a plain gray ramp.
 *
 * @module
 */
import { clientError } from "./errors.ts";
import { COLORMAP_HEX } from "./_colormap_tables.ts";

/** Names of the supported colormaps. */
export type ColormapName = "jet" | "viridis" | "inferno" | "turbo" | "gray";

/**
 * Every supported colormap name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(COLORMAPS.includes("jet"));
 * ```
 */
export const COLORMAPS: readonly ColormapName[] = Object.freeze([
  "jet",
  "viridis",
  "inferno",
  "turbo",
  "gray",
]);

const cache = new Map<ColormapName, Uint8Array>();

function isColormapName(name: string): name is ColormapName {
  return (COLORMAPS as readonly string[]).includes(name);
}

function buildLut(name: ColormapName): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  if (name === "gray") {
    for (let i = 0; i < 256; i++) lut.fill(i, i * 3, i * 3 + 3);
    return lut;
  }
  const hex = COLORMAP_HEX[name];
  for (let i = 0; i < lut.length; i++) {
    lut[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return lut;
}

/**
 * Returns the 256-entry RGB lookup table (768 bytes, entry `i` at
 * `3 * i`) of a colormap. Throws a client error with code
 * `UNKNOWN_COLORMAP` for an unknown name. The result is a fresh copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lut = colormapLut("jet");
 * assert.deepEqual([lut[0], lut[1], lut[2]], [0, 0, 128]);
 * ```
 */
export function colormapLut(name: string): Uint8Array {
  return sharedLut(name).slice();
}

/** The cached table for `name`; callers must not modify it. */
function sharedLut(name: string): Uint8Array {
  if (!isColormapName(name)) {
    const valid = COLORMAPS.map((n) => `"${n}"`).join(", ");
    throw clientError(
      "UNKNOWN_COLORMAP",
      `Unknown colormap "${name}": valid colormaps are ${valid}`,
    );
  }
  let lut = cache.get(name);
  if (lut === undefined) {
    lut = buildLut(name);
    cache.set(name, lut);
  }
  return lut;
}

/**
 * The colormap entry a map value picks: `round(value * 255)`, clamped to
 * `0..255`, NaN as 0. Every renderer colours with it, so the server's PNGs
 * and the page's canvas agree byte for byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([0.5, -1, 2, NaN].map(colormapLevel), [128, 0, 255, 0]);
 * ```
 */
export function colormapLevel(value: number): number {
  const q = Math.round(value * 255);
  return q > 0 ? (q < 255 ? q : 255) : 0;
}

/**
 * Colours a map of values in `[0, 1]`: each value `v` picks table entry
 * `round(v * 255)`, clamped to `0..255` (NaN counts as 0). Returns
 * `map.length * 3` RGB bytes. Throws `UNKNOWN_COLORMAP` like
 * {@link colormapLut}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   applyColormap(new Float32Array([0, 1]), "jet"),
 *   new Uint8Array([0, 0, 128, 128, 0, 0]),
 * );
 * ```
 */
export function applyColormap(map: Float32Array, name: string): Uint8Array {
  const lut = sharedLut(name);
  const out = new Uint8Array(map.length * 3);
  for (let i = 0; i < map.length; i++) {
    const k = colormapLevel(map[i]) * 3;
    out[i * 3] = lut[k];
    out[i * 3 + 1] = lut[k + 1];
    out[i * 3 + 2] = lut[k + 2];
  }
  return out;
}
