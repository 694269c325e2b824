/**
 * The scaling every explanation map goes through: ReLU, then division by the
 * maximum, so values lie in [0, 1].
 *
 * @module
 */

/** A row-major grid of floats and its size (`values.length` is `width * height`). */
export interface MapGrid {
  width: number;
  height: number;
  values: Float32Array;
}

/** A map ready to show: scaled to [0, 1], with the raw range it came from. */
export interface Heatmap extends MapGrid {
  /** Row-major values in [0, 1]. */
  values: Float32Array;
  /** Minimum of the map before ReLU and scaling. */
  rawMin: number;
  /** Maximum of the map before ReLU and scaling. */
  rawMax: number;
}

/**
 * ReLU then max-scaling. A map with no positive value (all zeros, or all
 * negative) becomes all zeros, never NaN. The input is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   scaleMap({ values: new Float32Array([-1, 1, 2]), width: 3, height: 1 }).values,
 *   new Float32Array([0, 0.5, 1]),
 * );
 * ```
 */
export function scaleMap(map: MapGrid): Heatmap {
  const { values: raw, width, height } = map;
  if (raw.length !== width * height) {
    throw new Error(
      `Map has ${raw.length} values, expected ${width}×${height}`,
    );
  }
  let rawMin = Infinity;
  let rawMax = -Infinity;
  for (const v of raw) {
    if (Number.isNaN(v)) throw new Error("Map contains NaN");
    if (v < rawMin) rawMin = v;
    if (v > rawMax) rawMax = v;
  }
  const values = new Float32Array(raw.length);
  if (rawMax > 0 && Number.isFinite(rawMax)) {
    for (let i = 0; i < raw.length; i++) {
      values[i] = raw[i] > 0 ? raw[i] / rawMax : 0;
    }
  }
  if (raw.length === 0) rawMin = rawMax = 0;
  return { width, height, values, rawMin, rawMax };
}
