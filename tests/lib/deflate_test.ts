import assert from "node:assert/strict";
import { constants, deflateSync, inflateSync } from "node:zlib";
import { huffmanCodeLengths, huffmanDeflate } from "../../lib/deflate.ts";
import { decodeImage } from "../../lib/image.ts";
import { renderPngs } from "../../lib/render.ts";
import { FAST_PNG } from "../../lib/zlib.ts";

/** Seeded uniform integers in [0, n) (xorshift32). */
function randomInts(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

/** Symbol `i` repeated fib(i) times: a Huffman tree as deep as it gets. */
function fibonacciBytes(symbols: number): Uint8Array {
  const parts: number[] = [];
  let [a, b] = [1, 1];
  for (let s = 0; s < symbols; s++) {
    for (let k = 0; k < a; k++) parts.push(s);
    [a, b] = [b, a + b];
  }
  return Uint8Array.from(parts);
}

async function inflateWithStream(stream: Uint8Array): Promise<Uint8Array> {
  const body = new Blob([stream as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(body).arrayBuffer());
}

const next = randomInts(7);
const CASES: Record<string, Uint8Array> = {
  "empty": new Uint8Array(0),
  "one byte": new Uint8Array([200]),
  "three equal bytes (odd length)": new Uint8Array([7, 7, 7]),
  "every byte value once": Uint8Array.from({ length: 256 }, (_, i) => i),
  "1 MiB of zeros": new Uint8Array(1 << 20),
  // The largest Adler-32 sums, over many steps of 4 with 2 and 3 left over.
  "200,002 bytes of 255": new Uint8Array(200_002).fill(255),
  "200,003 bytes of 255": new Uint8Array(200_003).fill(255),
  "100,001 uniform random bytes": Uint8Array.from(
    { length: 100_001 },
    () => next(256),
  ),
  "small differences, as Sub-filtered rows": Uint8Array.from(
    { length: 50_000 },
    () => (next(9) - 4) & 0xff,
  ),
  "Fibonacci counts (a 24-deep tree, limited to 15)": fibonacciBytes(25),
};

for (const [name, data] of Object.entries(CASES)) {
  Deno.test(`huffmanDeflate round-trips ${name} through zlib and DecompressionStream`, async () => {
    const stream = huffmanDeflate(data);
    // zlib checks the header, every code's completeness and the Adler-32.
    assert.deepEqual(new Uint8Array(inflateSync(stream)), data);
    assert.deepEqual(await inflateWithStream(stream), data);
    // Odd offsets into a larger buffer read the same bytes.
    const shifted = new Uint8Array(data.length + 1);
    shifted.set(data, 1);
    assert.deepEqual(huffmanDeflate(shifted.subarray(1)), stream);
  });
}

Deno.test("huffmanDeflate's codes are made for each call's data, not kept from the last", () => {
  // A skewed stream, then one where the rare symbols are common.
  const skewed = fibonacciBytes(20);
  const reversed = skewed.map((v) => 19 - v);
  huffmanDeflate(skewed);
  assert.deepEqual(
    new Uint8Array(inflateSync(huffmanDeflate(reversed))),
    reversed,
  );
});

Deno.test("huffmanDeflate compresses an overlay's Sub rows within 1 % of zlib's Huffman-only mode", async () => {
  const image = await decodeImage(
    await Deno.readFile(new URL("../fixtures/chelsea.png", import.meta.url)),
  );
  const map = {
    values: Float32Array.from({ length: 49 }, (_, i) => (Math.sin(i) + 1) / 2),
    width: 7,
    height: 7,
  };
  let rows = new Uint8Array();
  await renderPngs(image, map, {
    ...FAST_PNG,
    deflate: (data) => {
      rows = data.slice();
      return huffmanDeflate(data);
    },
    overlay: true,
    heatmap: false,
  });
  const ours = huffmanDeflate(rows);
  const zlib = deflateSync(rows, {
    level: 1,
    strategy: constants.Z_HUFFMAN_ONLY,
  });
  assert.deepEqual(new Uint8Array(inflateSync(ours)), rows);
  assert.ok(
    ours.length < zlib.length * 1.01,
    `${ours.length} bytes against zlib's ${zlib.length}`,
  );
  // Huffman coding alone gains a little on a photo's differences.
  assert.ok(ours.length < rows.length * 0.6, `${ours.length} bytes`);
});

/** The cost (total bits) of the best prefix code with no length limit. */
function optimalBits(counts: number[]): number {
  const queue = counts.filter((c) => c > 0).sort((a, b) => a - b);
  let bits = 0;
  while (queue.length > 1) {
    const merged = queue.shift()! + queue.shift()!;
    bits += merged;
    const at = queue.findIndex((c) => c > merged);
    queue.splice(at < 0 ? queue.length : at, 0, merged);
  }
  return bits;
}

function kraftSum(lengths: Uint8Array): number {
  return [...lengths].reduce((s, l) => s + (l ? 2 ** -l : 0), 0);
}

Deno.test("huffmanCodeLengths gives complete codes, optimal when the limit does not bind, and none longer than the limit", () => {
  const next = randomInts(11);
  for (let trial = 0; trial < 200; trial++) {
    const size = 2 + next(300);
    const counts = Array.from(
      { length: size },
      () => next(4) === 0 ? 0 : 1 + next(1 + next(100_000)),
    );
    counts[next(size)] ||= 1;
    counts[next(size)] ||= 1;
    if (counts.filter((c) => c > 0).length < 2) continue;
    for (const limit of [15, 9]) {
      const lengths = huffmanCodeLengths(counts, limit);
      assert.equal(kraftSum(lengths), 1);
      lengths.forEach((l, s) => assert.equal(l > 0, counts[s] > 0));
      assert.ok(Math.max(...lengths) <= limit);
      const bits = counts.reduce((s, c, i) => s + c * lengths[i], 0);
      const best = optimalBits(counts);
      assert.ok(bits >= best);
      if (Math.max(...huffmanCodeLengths(counts, 64)) <= limit) {
        assert.equal(bits, best);
      }
    }
  }
});

Deno.test("huffmanCodeLengths limits a Fibonacci tree and gives the most frequent symbols the shortest codes", () => {
  const counts = [1, 1];
  while (counts.length < 30) counts.push(counts.at(-1)! + counts.at(-2)!);
  assert.equal(Math.max(...huffmanCodeLengths(counts, 64)), 29);
  const lengths = huffmanCodeLengths(counts, 15);
  assert.equal(Math.max(...lengths), 15);
  assert.equal(kraftSum(lengths), 1);
  for (let s = 1; s < counts.length; s++) {
    assert.ok(lengths[s] <= lengths[s - 1], `symbol ${s}`);
  }
  const bits = counts.reduce((s, c, i) => s + c * lengths[i], 0);
  assert.ok(bits < optimalBits(counts) * 1.01);
});

Deno.test("huffmanCodeLengths: one symbol gets one bit, none gets none, too many for the limit throw", () => {
  assert.deepEqual(
    huffmanCodeLengths([0, 9, 0], 15),
    new Uint8Array([0, 1, 0]),
  );
  assert.deepEqual(huffmanCodeLengths([0, 0], 15), new Uint8Array(2));
  assert.throws(
    () => huffmanCodeLengths(new Array(9).fill(1), 3),
    /9 symbols need more than 3 bits/,
  );
});
