/**
 * Rendering alone: a 7×7 map over chelsea (451×300) upsampled, coloured,
 * blended and encoded as the overlay PNG, exactly as the server renders it.
 *
 * @module
 */
import {
  FAST_PNG,
  type MapGrid,
  renderPngs,
  type RgbImage,
} from "../../lib/mod.ts";
import { alternate } from "./stats.ts";

/**
 * Times `runs` overlay renderings of `map` over `image`.
 *
 * @example
 * ```ts
 * const ms = await renderRound(await chelsea(), { map, width: 7, height: 7 }, { runs: 50 });
 * ```
 */
export async function renderRound(
  image: RgbImage,
  map: MapGrid,
  options: { runs: number },
): Promise<number[]> {
  const render = () =>
    renderPngs(image, map, {
      colormap: "jet",
      alpha: 0.3,
      overlay: true,
      heatmap: false,
      ...FAST_PNG,
    });
  const samples = await alternate({ render }, {
    runs: options.runs,
    warmUp: 3,
  });
  return samples.render;
}
