/**
 * Overlays rendered in the page from a method's map and the original
 * image's pixels, with the server's own code (`lib/resize.ts`,
 * `lib/colormap.ts`, `lib/render.ts`): changing the colour map or α costs
 * a re-colour or a re-blend here, never a request. Pure: no DOM.
 *
 * @module
 */
import { applyColormap } from "../../lib/colormap.ts";
import type { RgbImage } from "../../lib/image.ts";
import { blend } from "../../lib/render.ts";
import { upsampleBilinear } from "../../lib/resize.ts";

/** A map as the API returns it: row-major values in [0, 1]. */
export interface MapValues {
  width: number;
  height: number;
  values: readonly number[];
}

/** Renders one map over one image, for any colour map and α. */
export interface OverlayRenderer {
  /**
   * The overlay's RGB bytes at the image's size: the same bytes as
   * `renderExplanationRgb(image, map, { colormap, alpha }).overlay`.
   */
  render(colormap: string, alpha: number): Uint8Array;
}

/**
 * Prepares a map for rendering over `image`. The upsampled map is computed
 * once and the coloured map is kept for the last colour map, so moving the
 * α slider only re-blends. The values go through a `Float32Array` first,
 * as on the server: JSON carries each float32 value exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255]) };
 * const renderer = overlayRenderer(image, { width: 1, height: 1, values: [1] });
 * assert.deepEqual(renderer.render("jet", 0.5), new Uint8Array([64, 0, 0, 192, 128, 128]));
 * ```
 */
export function overlayRenderer(
  image: RgbImage,
  map: MapValues,
): OverlayRenderer {
  let full: Float32Array | null = null;
  let coloured: { colormap: string; rgb: Uint8Array } | null = null;
  return {
    render(colormap, alpha) {
      full ??= upsampleBilinear({
        values: Float32Array.from(map.values),
        width: map.width,
        height: map.height,
      }, image);
      if (coloured?.colormap !== colormap) {
        coloured = { colormap, rgb: applyColormap(full, colormap) };
      }
      return blend(image, coloured.rgb, { alpha });
    },
  };
}

/**
 * Whether a map has nothing to show: every value is 0 (after ReLU and
 * scaling, nothing at the layer speaks for the class).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isEmptyMap({ width: 2, height: 1, values: [0, 0] }), true);
 * assert.equal(isEmptyMap({ width: 2, height: 1, values: [0, 0.5] }), false);
 * ```
 */
export function isEmptyMap(map: MapValues): boolean {
  return map.values.every((v) => v === 0);
}
