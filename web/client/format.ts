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
 * import assert from "node:assert/strict";
 * assert.equal(formatMs(1250), "1.25 s");
 * assert.equal(formatMs(34.6), "35 ms");
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
 * import assert from "node:assert/strict";
 * assert.equal(formatPercent(0.6312), "63.1%");
 * assert.equal(formatPercent(0.0123), "1.23%");
 * ```
 */
export function formatPercent(p: number): string {
  return `${(p * 100).toFixed(p >= 0.1 ? 1 : 2)}%`;
}

/** What {@linkcode timingsLine} reports. */
export interface TimingsFacts {
  /** The engine; null before the server answered. */
  backend: string | null;
  /** The first result's timings, in ms. */
  timings: { decode: number; forward: number } | null;
  /** When the first overlay arrived after the upload, in ms. */
  firstResultMs: number | null;
}

/**
 * The line under the results: engine, decode and forward times, and how
 * long the first overlay took; only what is known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   timingsLine({ backend: "wasm", timings: { decode: 28, forward: 803 }, firstResultMs: 2730 }),
 *   "backend wasm · decode 28 ms · forward 803 ms · first overlay after 2.73 s",
 * );
 * assert.equal(timingsLine({ backend: null, timings: null, firstResultMs: null }), "");
 * ```
 */
export function timingsLine(facts: TimingsFacts): string {
  const parts: string[] = [];
  if (facts.backend) parts.push(`backend ${facts.backend}`);
  if (facts.timings) {
    parts.push(`decode ${formatMs(facts.timings.decode)}`);
    parts.push(`forward ${formatMs(facts.timings.forward)}`);
  }
  if (facts.firstResultMs !== null) {
    parts.push(`first overlay after ${formatMs(facts.firstResultMs)}`);
  }
  return parts.join(" · ");
}

/**
 * An estimate of the time left, rounded as people say it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatTimeLeft(12.4), "about 12 s left");
 * assert.equal(formatTimeLeft(150), "about 3 min left");
 * ```
 */
export function formatTimeLeft(seconds: number): string {
  if (seconds < 1) return "less than a second left";
  if (seconds < 90) return `about ${Math.round(seconds)} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}
