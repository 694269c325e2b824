/**
 * NumPy's `.npy` format (version 1.0) for 2-D float32 maps, so a map saved
 * by the CLI loads with `numpy.load`.
 *
 * @module
 */
import type { MapGrid } from "./heatmap.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Encodes a row-major `height × width` float32 map as `.npy` bytes:
 * little-endian `<f4`, C order, the header padded so the data starts at a
 * multiple of 64 bytes. The input is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeNpy({
 *   values: new Float32Array([0, 0.5, 1, 0.25]),
 *   width: 2,
 *   height: 2,
 * });
 * // numpy.load(...) → array([[0., 0.5], [1., 0.25]], dtype=float32)
 * assert.equal(bytes.length, 128 + 4 * 4); // header padded to 64 bytes, then the data
 * ```
 */
export function encodeNpy(map: MapGrid): Uint8Array {
  const { values, width, height } = map;
  if (values.length !== width * height) {
    throw new RangeError(
      `Map has ${values.length} values, expected ${width}×${height}`,
    );
  }
  let header =
    `{'descr': '<f4', 'fortran_order': False, 'shape': (${height}, ${width}), }`;
  // magic (6) + version (2) + header length (2) + header, ending in "\n".
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + headerBytes.length + values.length * 4);
  out.set(MAGIC, 0);
  out.set([1, 0], 6);
  const view = new DataView(out.buffer);
  view.setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  const dataStart = 10 + headerBytes.length;
  values.forEach((v, i) => view.setFloat32(dataStart + 4 * i, v, true));
  return out;
}
