/**
 * zlib streams (RFC 1950 around RFC 1951) with Huffman coding only, in
 * TypeScript: one dynamic block in which every byte is a literal, its codes
 * fitted to the data's histogram. For PNG rows after the Sub filter, where
 * small differences seldom repeat and string matching buys about 1 %: on a
 * 451×300 overlay's rows (406 KB) it takes 1.14 ms where native zlib's
 * Huffman-only mode takes 1.95 (medians, one run on one machine), for a
 * stream 0.6 % larger. Browser-safe.
 *
 * @module
 */

/** deflate's longest literal/length code. */
const MAX_CODE_BITS = 15;
/** The longest code of the code-length alphabet (3-bit lengths). */
const MAX_CODE_LENGTH_BITS = 7;
const END_OF_BLOCK = 256;
/** The order in which the code-length code's lengths are sent (3.2.7). */
const CODE_LENGTH_ORDER = [
  16,
  17,
  18,
  0,
  8,
  7,
  9,
  6,
  10,
  5,
  11,
  4,
  12,
  3,
  13,
  2,
  14,
  1,
  15,
];

/**
 * Huffman code lengths for symbol counts, none longer than `limit` bits:
 * Huffman's tree, then the length limit of JPEG's Annex K.3 (two leaves at
 * the deepest level move up, a shallower leaf splits), the shortest codes
 * going to the most frequent symbols. Symbols that never occur get 0; a
 * single symbol gets 1 bit. Every code with two or more symbols is complete
 * (its Kraft sum is 1), as deflate decoders require.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   huffmanCodeLengths([5, 0, 1, 1, 2], 15),
 *   new Uint8Array([1, 0, 3, 3, 2]),
 * );
 * // Fibonacci counts make a 6-deep tree; a 4-bit limit reshapes it.
 * assert.deepEqual(
 *   huffmanCodeLengths([1, 1, 2, 3, 5, 8, 13], 4),
 *   new Uint8Array([4, 4, 4, 4, 3, 3, 1]),
 * );
 * ```
 */
export function huffmanCodeLengths(
  counts: ArrayLike<number>,
  limit: number,
): Uint8Array {
  const lengths = new Uint8Array(counts.length);
  const used: number[] = [];
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) used.push(s);
  if (used.length === 0) return lengths;
  if (used.length === 1) {
    lengths[used[0]] = 1;
    return lengths;
  }
  if (used.length > 2 ** limit) {
    throw new RangeError(`${used.length} symbols need more than ${limit} bits`);
  }
  // Leaves by rising count, then inner nodes as they are made: both queues
  // stay sorted, so the two lightest are always at their heads.
  used.sort((a, b) => counts[a] - counts[b] || a - b);
  const leaves = used.length;
  const weight = new Float64Array(2 * leaves - 1);
  const parent = new Int32Array(2 * leaves - 1);
  for (let i = 0; i < leaves; i++) weight[i] = counts[used[i]];
  let leaf = 0;
  let inner = leaves;
  let node = leaves;
  const lightest = () =>
    leaf < leaves && (inner === node || weight[leaf] <= weight[inner])
      ? leaf++
      : inner++;
  for (; node < 2 * leaves - 1; node++) {
    const a = lightest();
    const b = lightest();
    weight[node] = weight[a] + weight[b];
    parent[a] = node;
    parent[b] = node;
  }
  const depth = new Int32Array(2 * leaves - 1);
  const perLength = new Int32Array(leaves + 1);
  let deepest = 0;
  for (let i = 2 * leaves - 3; i >= 0; i--) depth[i] = depth[parent[i]] + 1;
  for (let i = 0; i < leaves; i++) {
    perLength[depth[i]]++;
    deepest = Math.max(deepest, depth[i]);
  }
  for (let i = deepest; i > limit; i--) {
    while (perLength[i] > 0) {
      let j = i - 2;
      while (perLength[j] === 0) j--;
      perLength[i] -= 2;
      perLength[i - 1]++;
      perLength[j + 1] += 2;
      perLength[j]--;
    }
  }
  let next = leaves - 1; // the most frequent symbol left
  for (let length = 1; length <= Math.min(limit, deepest); length++) {
    for (let k = 0; k < perLength[length]; k++) lengths[used[next--]] = length;
  }
  return lengths;
}

/**
 * Canonical codes for code lengths (3.2.2), bit-reversed: deflate sends a
 * code's first bit first into a stream filled from each byte's low bit.
 */
function canonicalCodes(lengths: Uint8Array): Uint16Array {
  const perLength = new Uint16Array(MAX_CODE_BITS + 1);
  for (const length of lengths) perLength[length]++;
  perLength[0] = 0;
  const next = new Uint16Array(MAX_CODE_BITS + 1);
  for (let length = 1, code = 0; length <= MAX_CODE_BITS; length++) {
    code = (code + perLength[length - 1]) << 1;
    next[length] = code;
  }
  const codes = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    const length = lengths[s];
    if (length === 0) continue;
    let code = next[length]++;
    let reversed = 0;
    for (let b = 0; b < length; b++) {
      reversed = (reversed << 1) | (code & 1);
      code >>= 1;
    }
    codes[s] = reversed;
  }
  return codes;
}

/** Four histograms, one per byte of each 4-byte step (see `countBytes`). */
const QUARTER_COUNTS = new Uint32Array(4 * 256);

/**
 * Each byte's count into `counts`; returns the data's Adler-32. Four bytes a
 * step, each counted in a histogram of its own: a run of equal bytes
 * (common in filtered rows) would otherwise make every count wait for the
 * one before it. The sums gain four bytes at once: `b` grows by four times
 * `a` and the bytes weighted 4, 3, 2, 1, as four single steps would add.
 */
function countBytes(data: Uint8Array, counts: Uint32Array): number {
  const quarters = QUARTER_COUNTS.fill(0);
  let a = 1;
  let b = 0;
  const whole = data.length & ~3;
  let i = 0;
  while (i < whole) {
    // zlib's NMAX (a multiple of 4): the most bytes before `b` could pass
    // 2^32. Numbers here are exact far beyond; the bound keeps them small.
    const end = Math.min(i + 5552, whole);
    for (; i < end; i += 4) {
      const v0 = data[i], v1 = data[i + 1], v2 = data[i + 2], v3 = data[i + 3];
      quarters[v0]++;
      quarters[256 + v1]++;
      quarters[512 + v2]++;
      quarters[768 + v3]++;
      b += 4 * a + 4 * v0 + 3 * v1 + 2 * v2 + v3;
      a += v0 + v1 + v2 + v3;
    }
    a %= 65521;
    b %= 65521;
  }
  for (; i < data.length; i++) {
    const v = data[i];
    counts[v]++;
    a += v;
    b += a;
  }
  a %= 65521;
  b %= 65521;
  for (let v = 0; v < 256; v++) {
    counts[v] += quarters[v] + quarters[256 + v] + quarters[512 + v] +
      quarters[768 + v];
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * A small bit writer (a code's first bit lowest), for the block's header
 * and its end; the data between is written in `huffmanDeflate`'s loop.
 */
class BitWriter {
  readonly bytes: number[] = [];
  /** Starts with fewer than 8 bits pending (`count`), lowest first. */
  constructor(public pending = 0, public count = 0) {}
  put(value: number, bits: number): void {
    this.pending |= value << this.count;
    this.count += bits;
    while (this.count >= 8) {
      this.bytes.push(this.pending & 0xff);
      this.pending >>>= 8;
      this.count -= 8;
    }
  }
}

/** The dynamic block's header for these literal/length code lengths. */
function blockHeader(lengths: Uint8Array): BitWriter {
  // 257 literal/length lengths and one distance length of 0 (no distance
  // codes: all literals), sent with a code over the lengths 0–15 (no runs).
  const sequence = [...lengths, 0];
  const counts = new Uint32Array(19);
  for (const length of sequence) counts[length]++;
  const codeLengths = huffmanCodeLengths(counts, MAX_CODE_LENGTH_BITS);
  const codes = canonicalCodes(codeLengths);
  let sent = CODE_LENGTH_ORDER.length;
  while (sent > 4 && codeLengths[CODE_LENGTH_ORDER[sent - 1]] === 0) sent--;
  const header = new BitWriter();
  header.put(1, 1); // the final block
  header.put(2, 2); // dynamic Huffman codes
  header.put(lengths.length - 257, 5);
  header.put(0, 5); // one distance code
  header.put(sent - 4, 4);
  for (let i = 0; i < sent; i++) {
    header.put(codeLengths[CODE_LENGTH_ORDER[i]], 3);
  }
  for (const length of sequence) header.put(codes[length], codeLengths[length]);
  return header;
}

/**
 * Bytes to leave free around the stream in its buffer, for a container
 * (a PNG's chunks) to be written around it without copying it.
 */
export interface DeflateRoom {
  before: number;
  after: number;
}

const NO_ROOM: DeflateRoom = { before: 0, after: 0 };

// Codes for each pair of bytes (first byte's code in the low bits), reused
// between calls: made afresh they would cost 320 KB of new memory each.
const PAIR_CODES = new Uint32Array(1 << 16);
const PAIR_LENGTHS = new Uint8Array(1 << 16);

/**
 * Compresses `data` into a zlib stream with Huffman coding only (see the
 * module's notes); any inflater restores it. The returned bytes are all the
 * stream; with `room`, they lie in a buffer with at least that many bytes
 * free before and after them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inflateSync } from "node:zlib";
 * const data = new TextEncoder().encode("abracadabra, abracadabra");
 * const stream = huffmanDeflate(data);
 * assert.deepEqual(new Uint8Array(inflateSync(stream)), data);
 * const roomy = huffmanDeflate(data, { before: 8, after: 16 });
 * assert.deepEqual(roomy, stream);
 * assert.equal(roomy.byteOffset, 8);
 * assert.ok(roomy.buffer.byteLength >= 8 + roomy.length + 16);
 * ```
 */
export function huffmanDeflate(
  data: Uint8Array,
  room: DeflateRoom = NO_ROOM,
): Uint8Array {
  const counts = new Uint32Array(257);
  const adler = countBytes(data, counts);
  counts[END_OF_BLOCK] = 1;
  // A lone end-of-block code would make an incomplete code, which some
  // inflaters refuse: a second symbol keeps it complete.
  if (data.length === 0) counts[0] = 1;
  const lengths = huffmanCodeLengths(counts, MAX_CODE_BITS);
  const codes = canonicalCodes(lengths);
  const header = blockHeader(lengths);
  let bits = header.bytes.length * 8 + header.count + lengths[END_OF_BLOCK];
  for (let s = 0; s < 256; s++) bits += counts[s] * lengths[s];
  const size = 2 + Math.ceil(bits / 8) + 4;
  // Room for the 32-bit writes, which may run up to 4 bytes past the end.
  const buffer = new Uint8Array(room.before + size + Math.max(4, room.after));
  const out = buffer.subarray(room.before);
  const view = new DataView(buffer.buffer, room.before);
  out[0] = 0x78; // deflate, 32 KiB window
  out[1] = 0x01; // the fastest level; (0x78 << 8 | 0x01) % 31 === 0
  out.set(header.bytes, 2);
  for (let b = 0; b < 256; b++) {
    // The second byte outside: the writes go through the tables in order.
    const codeB = codes[b];
    const lengthB = lengths[b];
    for (let a = 0, pair = b << 8; a < 256; a++, pair++) {
      const lengthA = lengths[a];
      PAIR_CODES[pair] = codes[a] | (codeB << lengthA);
      PAIR_LENGTHS[pair] = lengthA + lengthB;
    }
  }
  let at = 2 + header.bytes.length;
  let pending = header.pending;
  let count = header.count;
  const even = data.length & ~1;
  // Without a branch: whether 32 bits are full is data, not a jump the
  // processor must guess (a quarter of the pairs fill them, at random).
  // The word is written every time and kept only when full.
  for (let i = 0; i < even; i += 2) {
    const pair = data[i] | (data[i + 1] << 8);
    const code = PAIR_CODES[pair];
    const length = PAIR_LENGTHS[pair];
    pending |= code << count;
    count += length;
    view.setUint32(at, pending, true);
    const full = count >>> 5; // 1 when 32 bits or more are pending
    at += full << 2;
    count &= 31;
    // When full, the code's bits that did not fit (none when count is 0).
    const keep = full - 1; // all ones when not full, else 0
    pending = (pending & keep) | ((code >>> (length - count)) & ~keep);
  }
  for (; count >= 8; count -= 8) {
    out[at++] = pending & 0xff;
    pending >>>= 8;
  }
  // An odd last byte, the end of the block, and the last bits.
  const end = new BitWriter(pending, count);
  if (even < data.length) end.put(codes[data[even]], lengths[data[even]]);
  end.put(codes[END_OF_BLOCK], lengths[END_OF_BLOCK]);
  if (end.count > 0) end.bytes.push(end.pending & 0xff);
  out.set(end.bytes, at);
  at += end.bytes.length;
  view.setUint32(at, adler);
  return out.subarray(0, at + 4);
}
