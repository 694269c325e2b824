/**
 * PNG row unfiltering (None, Sub, Up, Average, Paeth), in place, for
 * `png_decode.ts`.
 *
 * @module
 */

/** Where the rows are and where they go, for {@link unfilterRows}. */
export interface RowLayout {
  height: number;
  /** Bytes per row, without the filter byte. */
  rowBytes: number;
  /** Bytes per complete pixel, at least 1 (the filters' left distance). */
  bpp: number;
  /**
   * Write row `y` to `y * rowBytes` (dropping the filter bytes), not back
   * where it was read.
   */
  compact: boolean;
}

/**
 * Undoes the row filters in place, row by row, with one loop per filter
 * type: no branching per byte. Row `y`'s filtered bytes are read at
 * `y * (rowBytes + 1) + 1`; with `compact` its pixels are written to
 * `y * rowBytes`, which is never ahead of what is still to be read.
 * Returns -1, or the first row whose filter type is unknown (rows before it
 * are unfiltered).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Two rows of 2 gray bytes: Sub [0, 5, 1], then Up [2, 1, 1].
 * const rows = new Uint8Array([1, 5, 1, 2, 1, 1]);
 * assert.equal(unfilterRows(rows, { height: 2, rowBytes: 2, bpp: 1, compact: true }), -1);
 * assert.deepEqual(rows.subarray(0, 4), new Uint8Array([5, 6, 6, 7]));
 * ```
 */
export function unfilterRows(rows: Uint8Array, layout: RowLayout): number {
  const { height, rowBytes: n, bpp, compact } = layout;
  for (let y = 0; y < height; y++) {
    const s = y * (n + 1) + 1;
    const d = compact ? y * n : s;
    // Previous row (already unfiltered); the first row's is all zeros.
    const u = y === 0 ? -1 : compact ? d - n : s - n - 1;
    let filter = rows[s - 1];
    if (filter > 4) return y;
    if (u < 0 && filter >= 2) filter = filter === 2 ? 0 : filter === 4 ? 1 : 5;
    switch (filter) {
      case 0:
        if (d === s) break;
        if (n < 64) { for (let i = 0; i < n; i++) rows[d + i] = rows[s + i]; }
        else rows.copyWithin(d, s, s + n);
        break;
      case 1: // Sub (and Paeth over the zero row: it predicts the left byte)
        for (let i = 0; i < bpp; i++) rows[d + i] = rows[s + i];
        for (let i = bpp; i < n; i++) {
          rows[d + i] = rows[s + i] + rows[d + i - bpp];
        }
        break;
      case 2: // Up
        for (let i = 0; i < n; i++) rows[d + i] = rows[s + i] + rows[u + i];
        break;
      case 3: // Average
        for (let i = 0; i < bpp; i++) {
          rows[d + i] = rows[s + i] + (rows[u + i] >> 1);
        }
        for (let i = bpp; i < n; i++) {
          rows[d + i] = rows[s + i] + ((rows[d + i - bpp] + rows[u + i]) >> 1);
        }
        break;
      case 4: // Paeth
        for (let i = 0; i < bpp; i++) rows[d + i] = rows[s + i] + rows[u + i];
        for (let i = bpp; i < n; i++) {
          const a = rows[d + i - bpp];
          const b = rows[u + i];
          const c = rows[u + i - bpp];
          // Branch-free (masks are 0 or -1): photos make these comparisons
          // unpredictable, and mispredictions cost more than the arithmetic.
          // libpng's order: b if it is strictly nearer than a, then c if it
          // is strictly nearer than that; the same as the spec's ties.
          const bc = b - c;
          const ac = a - c;
          const abc = bc + ac;
          const pa = (bc ^ (bc >> 31)) - (bc >> 31);
          const pb = (ac ^ (ac >> 31)) - (ac >> 31);
          const pc = (abc ^ (abc >> 31)) - (abc >> 31);
          const nearerB = (pb - pa) >> 31;
          const ab = a ^ ((a ^ b) & nearerB);
          const nearerC = (pc - (pa + ((pb - pa) & nearerB))) >> 31;
          rows[d + i] = rows[s + i] + (ab ^ ((ab ^ c) & nearerC));
        }
        break;
      default: // Average over the zero row
        for (let i = 0; i < bpp; i++) rows[d + i] = rows[s + i];
        for (let i = bpp; i < n; i++) {
          rows[d + i] = rows[s + i] + (rows[d + i - bpp] >> 1);
        }
    }
  }
  return -1;
}
