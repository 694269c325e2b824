/**
 * Byte-array equality for tests, naming the first difference: a deep
 * equality diff of two images would take gigabytes to print.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Asserts two byte arrays are equal (both absent passes too). */
export function assertSameBytes(
  actual: Uint8Array | undefined,
  expected: Uint8Array | undefined,
  what: string,
): void {
  if (!actual || !expected) {
    assert.equal(actual, expected, `${what}: present`);
    return;
  }
  assert.equal(actual.length, expected.length, `${what}: length`);
  const at = actual.findIndex((v, i) => v !== expected[i]);
  assert.equal(
    at,
    -1,
    `${what}: byte ${at} is ${actual[at]}, not ${expected[at]}`,
  );
}
