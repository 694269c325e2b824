/**
 * Whether the tests run in CI, where optional parts (a WebGPU adapter, a
 * browser) must be present rather than skipped.
 *
 * @module
 */

/**
 * Reads the `CI` variable: true for "true" or "1" (any case, spaces
 * trimmed), false for anything else, "false" and "0" included.
 *
 * @example
 * ```ts
 * isCi("false"); // false
 * isCi("1"); // true
 * ```
 */
export function isCi(value: string | undefined = Deno.env.get("CI")): boolean {
  const v = value?.trim().toLowerCase();
  return v === "true" || v === "1";
}
