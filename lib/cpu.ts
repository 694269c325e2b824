/**
 * CPU time of this process, for metrics (not for the browser bundle).
 *
 * @module
 */
import process from "node:process";

/**
 * CPU time this process has used so far, user and system, all its threads,
 * in seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const before = processCpuSeconds();
 * let x = 0;
 * for (let i = 0; i < 1e7; i++) x += i;
 * assert.ok(processCpuSeconds() >= before);
 * ```
 */
export function processCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
