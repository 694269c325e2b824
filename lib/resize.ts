/**
 * Resampling: antialiased bilinear resizing of RGB images (for model input)
 * and plain bilinear upsampling of float maps (for explanation heatmaps).
 *
 * @module
 */
import type { MapGrid } from "./heatmap.ts";
import type { RgbImage } from "./image.ts";

/** Fixed-point fraction bits of the 8-bit resampling weights. */
const WEIGHT_BITS = 22;
const WEIGHT_ONE = 1 << WEIGHT_BITS;

/** Per-output-pixel source window and fixed-point weights for one axis. */
interface AxisWeights {
  /** First source index for each output index. */
  start: Int32Array;
  /** Number of source pixels for each output index. */
  count: Int32Array;
  /** `taps` weights per output index; unused slots are zero. */
  weights: Int32Array;
  /** Weight slots reserved per output index. */
  taps: number;
}

function checkSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Triangle-filter weights for resampling `inSize` samples to `outSize`.
 * Output pixel centres map to `(i + 0.5) * scale` in the source; when
 * downscaling the filter is widened by the scale factor so that every source
 * pixel contributes (antialiasing).
 */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter has radius 1
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const raw = new Float64Array(taps);
  const inverse = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const first = Math.max(Math.trunc(centre - support + 0.5), 0);
    const n = Math.min(Math.trunc(centre + support + 0.5), inSize) - first;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const x = Math.abs((first + k - centre + 0.5) * inverse);
      raw[k] = x < 1 ? 1 - x : 0;
      total += raw[k];
    }
    for (let k = 0; k < n; k++) {
      const w = total === 0 ? 0 : raw[k] / total;
      weights[i * taps + k] = Math.trunc(w * WEIGHT_ONE + (w < 0 ? -0.5 : 0.5));
    }
    start[i] = first;
    count[i] = n;
  }
  return { start, count, weights, taps };
}

function clampByte(sum: number): number {
  const v = Math.floor((sum + WEIGHT_ONE / 2) / WEIGHT_ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Resamples along x; the input is `inWidth x height` RGB. */
function resampleRows(
  src: Uint8Array,
  inWidth: number,
  height: number,
  axis: AxisWeights,
  outWidth: number,
): Uint8Array {
  const out = new Uint8Array(outWidth * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * inWidth * 3;
    for (let x = 0; x < outWidth; x++) {
      let r = 0, g = 0, b = 0;
      const w0 = x * axis.taps;
      let s = row + axis.start[x] * 3;
      for (let k = 0; k < axis.count[x]; k++, s += 3) {
        const w = axis.weights[w0 + k];
        r += src[s] * w;
        g += src[s + 1] * w;
        b += src[s + 2] * w;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = clampByte(r);
      out[o + 1] = clampByte(g);
      out[o + 2] = clampByte(b);
    }
  }
  return out;
}

/** Resamples along y; the input is `width x inHeight` RGB. */
function resampleColumns(
  src: Uint8Array,
  width: number,
  axis: AxisWeights,
  outHeight: number,
): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(stride * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const w0 = y * axis.taps;
    const first = axis.start[y];
    for (let c = 0; c < stride; c++) {
      let sum = 0;
      for (let k = 0; k < axis.count[y]; k++) {
        sum += src[(first + k) * stride + c] * axis.weights[w0 + k];
      }
      out[y * stride + c] = clampByte(sum);
    }
  }
  return out;
}

/**
 * Resizes an RGB image with an antialiased bilinear (triangle) filter, the
 * same algorithm as Pillow's `Image.resize(size, Image.BILINEAR)`: pixel
 * centres at half-integers, filter support widened by the downscale factor,
 * horizontal pass then vertical pass, each rounded to 8 bits with 22-bit
 * fixed-point weights. Returns a new image; the input is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3) };
 * const small = resizeRgb(image, { width: 2, height: 1 });
 * assert.equal(small.data.length, 2 * 1 * 3);
 * ```
 */
export function resizeRgb(
  image: RgbImage,
  size: { width: number; height: number },
): RgbImage {
  const { width, height } = size;
  checkSize("width", width);
  checkSize("height", height);
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(
      `Image data has ${image.data.length} bytes, expected ` +
        `${image.width * image.height * 3}`,
    );
  }
  let data = image.data;
  if (width !== image.width) {
    const axis = axisWeights(image.width, width);
    data = resampleRows(data, image.width, image.height, axis, width);
  }
  if (height !== image.height) {
    data = resampleColumns(
      data,
      width,
      axisWeights(image.height, height),
      height,
    );
  }
  return { width, height, data: data === image.data ? data.slice() : data };
}

/** Source index and weight of the second neighbour, as OpenCV computes them. */
function linearTaps(
  inSize: number,
  outSize: number,
): { index: Int32Array; frac: Float64Array } {
  const scale = inSize / outSize;
  const index = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const f = (i + 0.5) * scale - 0.5;
    let s = Math.floor(f);
    let t = f - s;
    if (s < 0) {
      s = 0;
      t = 0;
    }
    if (s >= inSize - 1) {
      s = inSize - 1;
      t = 0;
    }
    index[i] = s;
    frac[i] = t;
  }
  return { index, frac };
}

/** A float map's size and the size it is upsampled to. */
export interface UpsampleSize {
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
}

/**
 * The rows of {@linkcode upsampleBilinear}'s output, one at a time, in one
 * reused `Float32Array` (copy a row to keep it): for renderers that colour
 * each row as it comes instead of holding the whole float map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const size = { width: 2, height: 1, outWidth: 4, outHeight: 2 };
 * const rows = [...upsampledRows(new Float32Array([0, 1]), size)].length;
 * assert.equal(rows, 2);
 * ```
 */
export function* upsampledRows(
  map: Float32Array,
  size: UpsampleSize,
): Generator<Float32Array> {
  const { width, height, outWidth, outHeight } = size;
  checkSize("width", width);
  checkSize("height", height);
  checkSize("outWidth", outWidth);
  checkSize("outHeight", outHeight);
  if (map.length !== width * height) {
    throw new RangeError(
      `Map has ${map.length} values, expected ${width}x${height}`,
    );
  }
  const xs = linearTaps(width, outWidth);
  const ys = linearTaps(height, outHeight);
  // Horizontal pass per source row, then blend the two rows each output row
  // needs.
  const rows = new Float64Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    const src = y * width;
    for (let x = 0; x < outWidth; x++) {
      const s = src + xs.index[x];
      const t = xs.frac[x];
      const right = t === 0 ? 0 : map[s + 1];
      rows[y * outWidth + x] = map[s] * (1 - t) + right * t;
    }
  }
  const line = new Float32Array(outWidth);
  for (let y = 0; y < outHeight; y++) {
    const t = ys.frac[y];
    const top = ys.index[y] * outWidth;
    const bottom = t === 0 ? top : top + outWidth;
    for (let x = 0; x < outWidth; x++) {
      line[x] = rows[top + x] * (1 - t) + rows[bottom + x] * t;
    }
    yield line;
  }
}

/**
 * Resizes a single-channel float map to `size` with plain bilinear
 * interpolation, as OpenCV's `cv2.resize(map, (width, height),
 * interpolation=cv2.INTER_LINEAR)`: output pixel `i` samples source
 * coordinate `(i + 0.5) * (in / out) - 0.5`, clamped to the edges. Meant for
 * upsampling (no antialiasing when shrinking). The input is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const map = { values: new Float32Array([0, 1]), width: 2, height: 1 };
 * const big = upsampleBilinear(map, { width: 4, height: 1 });
 * assert.deepEqual(big, new Float32Array([0, 0.25, 0.75, 1]));
 * ```
 */
export function upsampleBilinear(
  map: MapGrid,
  size: { width: number; height: number },
): Float32Array {
  const outWidth = size.width;
  const out = new Float32Array(outWidth * size.height);
  const rows = upsampledRows(map.values, {
    width: map.width,
    height: map.height,
    outWidth,
    outHeight: size.height,
  });
  let y = 0;
  for (const line of rows) out.set(line, y++ * outWidth);
  return out;
}

/** OpenCV's fixed-point taps for one axis: source index and 11-bit weights. */
function fixedTaps(size: number, outSize: number) {
  const { index, frac } = linearTaps(size, outSize);
  const w0 = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) w0[i] = Math.round((1 - frac[i]) * 2048);
  return { index, w0 };
}

/**
 * Resizes an RGB image with plain bilinear interpolation, half-pixel centres
 * and no antialiasing, bit for bit as OpenCV's `cv2.resize(...,
 * interpolation=cv2.INTER_LINEAR)` on 8-bit images (11-bit fixed-point
 * weights; OpenCV switches to INTER_AREA for an exact 2× shrink, this does
 * not). This is the model input's filter: it matches how the PyTorch
 * reference feeds ResNet-50, so predictions and maps agree with it. The
 * input is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 451, height: 300, data: new Uint8Array(451 * 300 * 3) };
 * const small = resizeRgbLinear(image, { width: 224, height: 224 });
 * assert.equal(small.data.length, 224 * 224 * 3);
 * ```
 */
export function resizeRgbLinear(
  image: RgbImage,
  size: { width: number; height: number },
): RgbImage {
  const { width, height } = size;
  checkSize("width", width);
  checkSize("height", height);
  const xs = fixedTaps(image.width, width);
  const ys = fixedTaps(image.height, height);
  const src = image.data;
  // Horizontal pass: every source row at the output width, weights × 2048.
  const rows = new Int32Array(image.height * width * 3);
  for (let y = 0; y < image.height; y++) {
    const row = y * image.width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + xs.index[x] * 3;
      const w0 = xs.w0[x];
      const w1 = 2048 - w0;
      const next = xs.index[x] + 1 < image.width ? s + 3 : s;
      const out = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        rows[out + c] = src[s + c] * w0 + src[next + c] * w1;
      }
    }
  }
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const b0 = ys.w0[y];
    const b1 = 2048 - b0;
    const r0 = ys.index[y] * width * 3;
    const r1 = ys.index[y] + 1 < image.height ? r0 + width * 3 : r0;
    const out = y * width * 3;
    for (let i = 0; i < width * 3; i++) {
      const v = (((b0 * (rows[r0 + i] >> 4)) >> 16) +
        ((b1 * (rows[r1 + i] >> 4)) >> 16) + 2) >> 2;
      data[out + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width, height, data };
}
