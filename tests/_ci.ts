/**
 * Whether the tests run in CI, where optional parts (a WebGPU adapter, a
 * browser) must be present rather than skipped.
 *
 * @module
 */

/** Whether this process runs in CI: {@link ciValueIsSet} on the `CI` variable. */
export function isCi(): boolean {
  return ciValueIsSet(Deno.env.get("CI"));
}

/**
 * Reads a `CI` value: true for "true" or "1" (any case, spaces trimmed),
 * false for anything else, "false", "0" and an unset variable included.
 *
 * @example
 * ```ts
 * ciValueIsSet("false"); // false
 * ciValueIsSet("1"); // true
 * ```
 */
export function ciValueIsSet(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === "true" || v === "1";
}
