/// <reference lib="dom" />
/**
 * Pixels in and out of the browser: the chosen file decoded to the RGB bytes
 * the server sees, and RGB bytes drawn on a canvas.
 *
 * @module
 */
import type { RgbImage } from "../../lib/image.ts";

/**
 * Decodes an image file to RGB bytes as the server does: no EXIF rotation
 * and no colour-profile conversion (the server applies neither), alpha
 * flattened over white with the server's rounding. PNGs decode to the
 * server's exact bytes; JPEG decoders may differ by a level here and there.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM: createImageBitmap and canvases).
 * const image = await decodeRgb(input.files[0]);
 * image.data.length === image.width * image.height * 3; // true
 * ```
 */
export async function decodeRgb(file: Blob): Promise<RgbImage> {
  const bitmap = await createImageBitmap(file, {
    imageOrientation: "none",
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (!context) throw new Error("The browser has no 2D canvas");
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, width, height).data;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      const a = rgba[i + 3];
      const white = 255 * (255 - a);
      for (let c = 0; c < 3; c++) {
        data[j + c] = a === 255
          ? rgba[i + c]
          : Math.round((rgba[i + c] * a + white) / 255);
      }
    }
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}

/**
 * Draws RGB bytes on a canvas, resizing it to the image.
 *
 * @example
 * ```ts ignore
 * // In the page (needs a DOM: createImageBitmap and canvases).
 * drawRgb(canvas, { width: 1, height: 1, data: new Uint8Array([255, 0, 0]) });
 * ```
 */
export function drawRgb(canvas: HTMLCanvasElement, image: RgbImage): void {
  const { width, height, data } = image;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext("2d");
  if (!context) return;
  const pixels = context.createImageData(width, height);
  const rgba = pixels.data;
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    rgba[i] = data[j];
    rgba[i + 1] = data[j + 1];
    rgba[i + 2] = data[j + 2];
    rgba[i + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
}
