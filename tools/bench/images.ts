/**
 * Inputs no cache has seen: copies of chelsea.png (451×300) that differ in a
 * small patch, so that they still differ after resizing to the model's
 * input and the pass cache cannot serve them.
 *
 * @module
 */
import {
  decodeImage,
  encodeBase64,
  encodePng,
  huffmanDeflate,
  type RgbImage,
} from "../../lib/mod.ts";

/** The photo every figure uses. */
export const CHELSEA =
  new URL("../../tests/fixtures/chelsea.png", import.meta.url)
    .pathname;

/**
 * chelsea.png decoded.
 *
 * @example
 * ```ts
 * const image = await chelsea(); // { width: 451, height: 300, data }
 * ```
 */
export async function chelsea(): Promise<RgbImage> {
  return await decodeImage(await Deno.readFile(CHELSEA));
}

/**
 * chelsea with a 24×24 patch at its top left painted from `seed` (a grey,
 * and one more pixel for seeds past 255): a distinct image per seed.
 *
 * @example
 * ```ts
 * const a = variant(image, 1), b = variant(image, 2); // differ in 24×24 pixels
 * ```
 */
export function variant(image: RgbImage, seed: number): RgbImage {
  const data = image.data.slice();
  for (let y = 0; y < 24; y++) {
    const row = y * image.width * 3;
    data.fill(seed & 0xff, row, row + 24 * 3);
  }
  data[24 * 3] = (seed >> 8) & 0xff;
  return { width: image.width, height: image.height, data };
}

/** Distinct images as PNG files and as the base64 text a client sends. */
export interface Variants {
  png: Uint8Array[];
  base64: string[];
}

/**
 * `count` distinct PNG variants of an image, seeds `first` onwards (encoded
 * before any timing starts).
 *
 * @example
 * ```ts
 * const { base64 } = await pngVariants(await chelsea(), 40, { first: 1000 });
 * ```
 */
export async function pngVariants(
  image: RgbImage,
  count: number,
  options: { first?: number } = {},
): Promise<Variants> {
  const png: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const v = variant(image, (options.first ?? 0) + i);
    png.push(await encodePng(v, { deflate: huffmanDeflate }));
  }
  return { png, base64: png.map(encodeBase64) };
}

/**
 * A source of preprocessed inputs never seen before: `input` with its first
 * value moved by a new amount on each call (cheap, and enough to miss the
 * pass cache, which hashes the whole input).
 *
 * @example
 * ```ts
 * const fresh = freshInputs(runtime.prepare(image));
 * await runtime.run(fresh());
 * ```
 */
export function freshInputs(input: Float32Array): () => Float32Array {
  let calls = 0;
  return () => {
    const x = input.slice();
    x[0] += ++calls * 1e-3;
    return x;
  };
}
