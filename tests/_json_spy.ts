/**
 * Watches `JSON.stringify` while `run` runs: the longest text it wrote
 * (tests that long strings bypass it).
 *
 * @module
 */

/** Runs `run` with `JSON.stringify` watched; its result and the longest text written. */
export async function longestStringified<T>(
  run: () => T | Promise<T>,
): Promise<{ value: T; longest: number }> {
  const stringify = JSON.stringify;
  let longest = 0;
  JSON.stringify = ((...args: Parameters<typeof stringify>) => {
    const text = stringify(...args);
    longest = Math.max(longest, text?.length ?? 0);
    return text;
  }) as typeof JSON.stringify;
  try {
    return { value: await run(), longest };
  } finally {
    JSON.stringify = stringify;
  }
}
