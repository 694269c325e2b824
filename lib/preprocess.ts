/**
 * Turns RGB pixels into a model's NHWC float32 input, following the three
 * conventions of `keras.applications.imagenet_utils.preprocess_input`.
 *
 * @module
 */
import type { RgbImage } from "./image.ts";

/**
 * Input normalisation convention:
 * - `caffe`: RGB to BGR, then subtract the ImageNet BGR means
 *   `[103.939, 116.779, 123.68]` (ResNet50, VGG);
 * - `tf`: scale to `[-1, 1]` as `x / 127.5 - 1` (MobileNet, Inception);
 * - `torch`: `(x / 255 - mean) / std` per RGB channel with ImageNet
 *   mean `[0.485, 0.456, 0.406]` and std `[0.229, 0.224, 0.225]`;
 * - `none`: the RGB values as they are, 0 to 255 (for models that
 *   normalise their input themselves).
 */
export type PreprocessMode = "caffe" | "tf" | "torch" | "none";

/**
 * Every {@link PreprocessMode}, in declaration order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(PREPROCESS_MODES.includes("caffe"));
 * ```
 */
export const PREPROCESS_MODES: readonly PreprocessMode[] = Object.freeze([
  "caffe",
  "tf",
  "torch",
  "none",
]);

const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68];
const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];

/**
 * Converts an RGB image to a float32 NHWC tensor body (`height * width * 3`
 * values, batch of one implied) normalised as `mode` prescribes. For
 * `caffe` the channel order of the output is BGR; otherwise RGB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 1, height: 1, data: new Uint8Array([255, 0, 0]) };
 * assert.deepEqual(preprocess(image, "tf"), new Float32Array([1, -1, -1]));
 * // BGR, less the ImageNet means
 * assert.deepEqual(preprocess(image, "caffe"), new Float32Array([-103.939, -116.779, 131.32]));
 * ```
 */
export function preprocess(
  image: RgbImage,
  mode: PreprocessMode,
): Float32Array {
  const { data } = image;
  if (data.length !== image.width * image.height * 3) {
    throw new RangeError(
      `Image data has ${data.length} bytes, expected ` +
        `${image.width * image.height * 3}`,
    );
  }
  const out = new Float32Array(data.length);
  switch (mode) {
    case "caffe":
      for (let i = 0; i < data.length; i += 3) {
        out[i] = data[i + 2] - CAFFE_BGR_MEAN[0];
        out[i + 1] = data[i + 1] - CAFFE_BGR_MEAN[1];
        out[i + 2] = data[i] - CAFFE_BGR_MEAN[2];
      }
      return out;
    case "tf":
      for (let i = 0; i < data.length; i++) out[i] = data[i] / 127.5 - 1;
      return out;
    case "torch":
      for (let i = 0; i < data.length; i++) {
        const c = i % 3;
        out[i] = (data[i] / 255 - TORCH_MEAN[c]) / TORCH_STD[c];
      }
      return out;
    case "none":
      for (let i = 0; i < data.length; i++) out[i] = data[i];
      return out;
    default:
      throw new RangeError(`Unknown preprocess mode "${mode as string}"`);
  }
}
