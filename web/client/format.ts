/**
 * Numbers as the page shows them. Pure: no DOM.
 *
 * @module
 */

/**
 * Milliseconds, as `"35 ms"` or, from a second on, `"1.25 s"`.
 *
 * @example
 * ```ts
 * formatMs(1250); // "1.25 s"
 * ```
 */
export function formatMs(value: number): string {
  return value >= 1000
    ? `${(value / 1000).toFixed(2)} s`
    : `${Math.round(value)} ms`;
}

/**
 * A probability as a percentage, with two decimals below 10 %.
 *
 * @example
 * ```ts
 * formatPercent(0.6312); // "63.1%"
 * ```
 */
export function formatPercent(p: number): string {
  return `${(p * 100).toFixed(p >= 0.1 ? 1 : 2)}%`;
}
