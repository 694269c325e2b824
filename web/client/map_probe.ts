/**
 * Reading an explanation map under the pointer: which cell of the
 * `width × height` map a point of the displayed overlay falls in, and its
 * value. Pure: no DOM.
 *
 * @module
 */

/** A map as the API returns it: row-major values in [0, 1]. */
export interface MapData {
  width: number;
  height: number;
  values: readonly number[];
}

/** One cell of a map and its value. */
export interface MapCell {
  /** Column, 0 at the left. */
  x: number;
  /** Row, 0 at the top. */
  y: number;
  value: number;
}

/** A point of the overlay as shown, and the size it is shown at, in pixels. */
export interface DisplayPoint {
  /** Pixels from the overlay's left edge. */
  x: number;
  /** Pixels from the overlay's top edge. */
  y: number;
  /** The overlay's displayed width. */
  width: number;
  /** The overlay's displayed height. */
  height: number;
}

/**
 * The cell at a point of an overlay shown `point.width × point.height`
 * pixels large (points on or past an edge clamp to the edge cell).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const map = { width: 2, height: 1, values: [0.25, 1] };
 * const shown = { width: 200, height: 100 };
 * assert.deepEqual(cellAt(map, { x: 150, y: 10, ...shown }), { x: 1, y: 0, value: 1 });
 * assert.deepEqual(cellAt(map, { x: 200, y: 100, ...shown }), { x: 1, y: 0, value: 1 }); // edge: clamped
 * ```
 */
export function cellAt(map: MapData, point: DisplayPoint): MapCell {
  const clamp = (v: number, n: number) =>
    Math.min(n - 1, Math.max(0, Math.floor(v)));
  const x = clamp((point.x / point.width) * map.width, map.width);
  const y = clamp((point.y / point.height) * map.height, map.height);
  return { x, y, value: map.values[y * map.width + x] };
}

/**
 * The cell one step away in a direction (arrow keys), staying on the map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const map = { width: 2, height: 2, values: [0, 0.5, 0.75, 1] };
 * const from = { x: 0, y: 0 };
 * assert.deepEqual(moveCell(map, { from, key: "ArrowRight" }), { x: 1, y: 0, value: 0.5 });
 * assert.deepEqual(moveCell(map, { from, key: "ArrowUp" }), { x: 0, y: 0, value: 0 }); // stays on the map
 * ```
 */
export function moveCell(
  map: MapData,
  move: {
    /** The cell the cursor is on. */
    from: { x: number; y: number };
    /** The key pressed: an arrow key moves, any other stays. */
    key: string;
  },
): MapCell {
  const { from, key } = move;
  const step: Record<string, [number, number]> = {
    ArrowLeft: [-1, 0],
    ArrowRight: [1, 0],
    ArrowUp: [0, -1],
    ArrowDown: [0, 1],
  };
  const [dx, dy] = step[key] ?? [0, 0];
  const x = Math.min(map.width - 1, Math.max(0, from.x + dx));
  const y = Math.min(map.height - 1, Math.max(0, from.y + dy));
  return { x, y, value: map.values[y * map.width + x] };
}

/**
 * The map as a JSON document for download: the values and what they
 * explain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(JSON.parse(mapJson({ width: 1, height: 1, values: [1] }, { method: "gradcam" })), {
 *   method: "gradcam", width: 1, height: 1, values: [1],
 * });
 * ```
 */
export function mapJson(
  map: MapData & { rawMin?: number; rawMax?: number },
  about: Record<string, unknown>,
): string {
  return JSON.stringify({
    ...about,
    width: map.width,
    height: map.height,
    rawMin: map.rawMin,
    rawMax: map.rawMax,
    values: map.values,
  });
}

/**
 * A safe file name for a download: the image's name without its extension,
 * then the parts, joined by `_`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   downloadName("my cat.jpeg", { parts: ["gradcam", "overlay"], extension: "png" }),
 *   "my-cat_gradcam_overlay.png",
 * );
 * ```
 */
export function downloadName(
  imageName: string,
  file: {
    /** What the file holds, e.g. `["gradcam", "overlay"]`. */
    parts: readonly string[];
    /** The file's extension, without the dot. */
    extension: string;
  },
): string {
  const { parts, extension } = file;
  const stem = imageName.replace(/\.[^.]*$/, "").replace(/[^\w.-]+/g, "-") ||
    "image";
  return `${[stem, ...parts].join("_")}.${extension}`;
}
