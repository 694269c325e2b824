/**
 * A small seeded random number generator, so that methods that add noise
 * give the same map for the same request.
 *
 * @module
 */

/**
 * Standard normal samples from a seeded generator: xorshift32 for uniforms,
 * Box–Muller for the normal pairs. Same seed, same sequence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const next = gaussianSource(42);
 * const first = next();
 * assert.equal(first, gaussianSource(42)()); // the same seed, the same draws
 * assert.notEqual(next(), first);
 * ```
 */
export function gaussianSource(seed: number): () => number {
  // A zero state would stay zero; mix the seed into a non-zero odd value.
  let state = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x6d2b79f5) >>> 0 || 1;
  const uniform = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 4294967296; // in (0, 1)
  };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}
