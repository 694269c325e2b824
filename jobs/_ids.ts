/**
 * Job ids: 128 random bits, base64url, so that knowing one id tells nothing
 * about another.
 *
 * @module
 */

const ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * A new unguessable job id (22 URL-safe characters).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const id = newJobId(); // e.g. "V1StGXR8_Z5jdHi6B-myTw"
 * assert.match(id, /^[A-Za-z0-9_-]{22}$/);
 * assert.notEqual(newJobId(), id);
 * ```
 */
export function newJobId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/**
 * Whether `id` has the shape of a job id (checked before any lookup, so
 * that no other string reaches a Redis key).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isJobId(newJobId()), true);
 * assert.equal(isJobId("a:b"), false);
 * ```
 */
export function isJobId(id: string): boolean {
  return ID.test(id);
}
