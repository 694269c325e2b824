/**
 * A small LRU cache of lower-pass states (activations at a layer, plus the
 * residual skips above it), so that another method, class or colour map on
 * the same image skips the network below the layer.
 *
 * @module
 */
import type { LowerState } from "./engine.ts";

/**
 * A 64-bit FNV-1a-style hash of the input's bytes, as 16 hex digits plus the
 * length. Two independent 32-bit lanes make accidental collisions negligible
 * for a cache of a few entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(hashInput(new Float32Array([1, 2, 3])), hashInput(new Float32Array([1, 2, 3])));
 * assert.notEqual(hashInput(new Float32Array([1, 2, 3])), hashInput(new Float32Array([1, 2, 4])));
 * assert.match(hashInput(new Float32Array([1, 2, 3])), /^[0-9a-f]{16}:3$/);
 * ```
 */
export function hashInput(input: Float32Array): string {
  const words = new Uint32Array(
    input.buffer,
    input.byteOffset,
    input.byteLength / 4,
  );
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ words.length;
  for (let i = 0; i < words.length; i++) {
    a = Math.imul(a ^ words[i], 0x01000193);
    b = Math.imul(b ^ words[i], 0x5bd1e995) ^ (b >>> 15);
  }
  const hex = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
  return `${hex(a)}${hex(b)}:${words.length}`;
}

/** An LRU of lower states; evicted states are disposed. */
export interface PassCache {
  get(key: string): LowerState | undefined;
  /** Whether `key` is cached, without counting a hit or a miss. */
  has(key: string): boolean;
  /** Stores `state` (the cache now owns it), evicting the least recent. */
  set(key: string, state: LowerState): void;
  readonly size: number;
  readonly bytes: number;
  readonly stats: { hits: number; misses: number };
  clear(): void;
}

/**
 * Creates a cache holding at most `maxEntries` states and `maxBytes` device
 * bytes. With `maxEntries` 0 nothing is kept (each state is disposed when its
 * request ends).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cache = createPassCache({ maxEntries: 8, maxBytes: 64 << 20 });
 * const disposed: string[] = [];
 * // Lower states as an engine hands them out (here 40 MiB each).
 * const state = (name: string) => ({
 *   layer: "layer4", batch: 1, bytes: 40 << 20, dispose: () => disposed.push(name),
 * });
 * cache.set("a", state("a"));
 * cache.set("b", state("b")); // over 64 MiB: the least recent goes
 * assert.deepEqual(disposed, ["a"]);
 * assert.equal(cache.get("b")?.layer, "layer4");
 * assert.deepEqual(cache.stats, { hits: 1, misses: 0 });
 * cache.clear();
 * ```
 */
export function createPassCache(
  options: { maxEntries?: number | undefined; maxBytes?: number | undefined } =
    {},
): PassCache {
  const maxEntries = options.maxEntries ?? 8;
  const maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  const entries = new Map<string, LowerState>();
  const stats = { hits: 0, misses: 0 };
  let bytes = 0;
  const evict = (key: string) => {
    const state = entries.get(key)!;
    entries.delete(key);
    bytes -= state.bytes;
    state.dispose();
  };
  return {
    get(key) {
      const state = entries.get(key);
      if (!state) {
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      entries.delete(key);
      entries.set(key, state);
      return state;
    },
    has: (key) => entries.has(key),
    set(key, state) {
      if (entries.get(key) === state) return;
      if (entries.has(key)) evict(key);
      entries.set(key, state);
      bytes += state.bytes;
      while (
        entries.size > 0 && (entries.size > maxEntries || bytes > maxBytes)
      ) {
        evict(entries.keys().next().value!);
      }
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
    stats,
    clear() {
      for (const key of [...entries.keys()]) evict(key);
    },
  };
}
