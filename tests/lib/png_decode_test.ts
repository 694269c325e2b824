import assert from "node:assert/strict";
import { crc32, deflateSync, inflateSync } from "node:zlib";
import pngWasm from "imagescript/wasm/node/png.js";

import { ClientError } from "../../lib/errors.ts";
import { decodeImage } from "../../lib/image.ts";
import { decodePng, isInterlacedPng } from "../../lib/png_decode.ts";

// tests/fixtures/png/ is written by tools/make_png_fixtures.py (see its
// README); the other PNG fixtures are described in image_test.ts.

/** imagescript's WebAssembly decoder: the path `decodeImage` used before. */
const imagescript = await (pngWasm as {
  init(): Promise<{
    decode(bytes: Uint8Array): {
      width: number;
      height: number;
      framebuffer: Uint8Array;
    };
  }>;
}).init();

/** The old path: imagescript's RGBA composited over white, to RGB. */
function oldDecode(bytes: Uint8Array): Uint8Array {
  const { width, height, framebuffer } = imagescript.decode(bytes);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const a = framebuffer[i * 4 + 3];
    for (let k = 0; k < 3; k++) {
      const c = framebuffer[i * 4 + k];
      rgb[i * 3 + k] = a === 255
        ? c
        : Math.round((c * a + 255 * (255 - a)) / 255);
    }
  }
  return rgb;
}

const FIXTURES = new URL("../fixtures/", import.meta.url);

async function pngFixtures(): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const dir of ["", "png/"]) {
    for await (const entry of Deno.readDir(new URL(dir, FIXTURES))) {
      if (!entry.name.endsWith(".png")) continue;
      const name = dir + entry.name;
      files.set(name, await Deno.readFile(new URL(name, FIXTURES)));
    }
  }
  return files;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** What {@link writePng} writes. */
interface PngSpec {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** Filter type of each row's filter byte, by row. */
  filter?: (y: number) => number;
  /** Chunks between IHDR and IDAT (PLTE, tRNS). */
  before?: [string, Uint8Array][];
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Filters one packed row (bytes) against the previous one. */
function filterRow(
  f: number,
  row: Uint8Array,
  prev: Uint8Array,
  bpp: number,
): Uint8Array {
  const out = new Uint8Array(row.length);
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev[i];
    const c = i >= bpp ? prev[i - bpp] : 0;
    const pa = Math.abs(b - c);
    const pb = Math.abs(a - c);
    const pc = Math.abs(a + b - 2 * c);
    const predictor = [
      0,
      a,
      b,
      (a + b) >> 1,
      pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
    ][f] ?? 0;
    out[i] = row[i] - predictor;
  }
  return out;
}

/** A tiny PNG writer: packed rows in, one filter type per row. */
function writePng(spec: PngSpec, packed: Uint8Array): Uint8Array {
  const filtered = writePngRows(spec, packed, spec.filter ?? (() => 0));
  return assemble(spec, [
    ...(spec.before ?? []),
    ["IDAT", deflateSync(filtered)],
  ]);
}

function flipLast(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1] ^= 1;
  return out;
}

/** Filter bytes and filtered rows, uncompressed. */
function writePngRows(
  spec: { width: number; height: number; bitDepth: number; colorType: number },
  packed: Uint8Array,
  filter: (y: number) => number,
): Uint8Array {
  const { width, height, bitDepth, colorType } = spec;
  const bits = CHANNELS[colorType] * bitDepth;
  const rowBytes = Math.ceil(width * bits / 8);
  const bpp = Math.max(1, bits >> 3);
  const filtered = new Uint8Array(height * (rowBytes + 1));
  let prev: Uint8Array = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const row = packed.subarray(y * rowBytes, (y + 1) * rowBytes);
    const f = filter(y);
    filtered[y * (rowBytes + 1)] = f;
    filtered.set(filterRow(f, row, prev, bpp), y * (rowBytes + 1) + 1);
    prev = row;
  }
  return filtered;
}

/** Signature, IHDR (not interlaced), the given chunks, IEND. */
function assemble(
  spec: { width: number; height: number; bitDepth: number; colorType: number },
  chunks: [string, Uint8Array][],
): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, spec.width);
  view.setUint32(4, spec.height);
  header.set([spec.bitDepth, spec.colorType, 0, 0, 0], 8);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    ...chunks.map(([type, data]) => chunk(type, data)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** A PNG's chunks, in order. */
function readChunks(bytes: Uint8Array): [string, Uint8Array][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const chunks: [string, Uint8Array][] = [];
  for (let pos = 8; pos < bytes.length;) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    chunks.push([type, bytes.subarray(pos + 8, pos + 8 + length)]);
    pos += 12 + length;
  }
  return chunks;
}

/** Deterministic bytes (a linear congruential generator). */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Filter types used by the rows of a non-interlaced PNG. */
function filterTypes(bytes: Uint8Array): Set<number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const [width, height] = [view.getUint32(16), view.getUint32(20)];
  const [bitDepth, colorType] = [bytes[24], bytes[25]];
  const idat = readChunks(bytes).filter(([type]) => type === "IDAT");
  const rows = inflateSync(concat(idat.map(([, data]) => data)));
  const stride = Math.ceil(width * CHANNELS[colorType] * bitDepth / 8) + 1;
  const used = new Set<number>();
  for (let y = 0; y < height; y++) used.add(rows[y * stride]);
  return used;
}

/**
 * Byte equality that reports the first difference (a failing deepEqual on
 * a few hundred thousand bytes builds a diff too large to print).
 */
function assertSameBytes(
  actual: Uint8Array,
  expected: Uint8Array,
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const at = actual.findIndex((v, i) => v !== expected[i]);
  if (at >= 0) {
    const pixel = (
      a: Uint8Array,
    ) => [...a.subarray(at - at % 3, at - at % 3 + 3)];
    assert.fail(
      `${label}: pixel ${Math.floor(at / 3)} is ${pixel(actual)}, ` +
        `expected ${pixel(expected)}`,
    );
  }
}

function isInvalidImage(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ClientError, `not a ClientError: ${error}`);
    assert.equal(error.code, "INVALID_IMAGE");
    assert.match(error.message, /^Cannot decode image: corrupt PNG data \(/);
    assert.match(error.message, pattern);
    return true;
  };
}

const DEPTHS: [number, number[]][] = [
  [0, [1, 2, 4, 8, 16]],
  [2, [8, 16]],
  [3, [1, 2, 4, 8]],
  [4, [8, 16]],
  [6, [8, 16]],
];

Deno.test("decodePng equals imagescript on every PNG fixture", async () => {
  const files = await pngFixtures();
  const kinds = new Set<string>();
  const filters = new Set<number>();
  for (const [name, bytes] of files) {
    if (isInterlacedPng(bytes)) continue;
    const image = decodePng(bytes);
    assert.equal(image.data.length, image.width * image.height * 3, name);
    assertSameBytes(image.data, oldDecode(bytes), name);
    const trns = readChunks(bytes).some(([type]) => type === "tRNS");
    kinds.add(`${bytes[25]}/${bytes[24]}${trns ? "/tRNS" : ""}`);
    for (const f of filterTypes(bytes)) filters.add(f);
  }
  // The fixtures cover every colour type x depth, tRNS, and every filter.
  for (const [colorType, depths] of DEPTHS) {
    for (const depth of depths) {
      assert.ok(
        kinds.has(`${colorType}/${depth}`),
        `no fixture ${colorType}/${depth}`,
      );
    }
  }
  for (const kind of ["3/1", "3/2", "3/4", "3/8", "0/2", "0/8", "0/16"]) {
    assert.ok(kinds.has(`${kind}/tRNS`), `no fixture ${kind} with tRNS`);
  }
  assert.ok(kinds.has("2/8/tRNS") && kinds.has("2/16/tRNS"));
  assert.deepEqual([...filters].sort(), [0, 1, 2, 3, 4]);
});

Deno.test("decodePng equals imagescript for each filter type on every colour type and depth", () => {
  let seed = 1;
  for (const [colorType, depths] of DEPTHS) {
    for (const bitDepth of depths) {
      // Widths 1 (one byte or sample per row) and 13 (padding bits).
      for (const width of [1, 13]) {
        const height = 6;
        const rowBytes = Math.ceil(
          width * CHANNELS[colorType] * bitDepth / 8,
        );
        const packed = noise(rowBytes * height, seed++);
        const palette: [string, Uint8Array][] = colorType === 3
          ? [["PLTE", noise(3 << bitDepth, seed++)]]
          : [];
        // Each filter on every row (the first row included), then mixed.
        const schedules: ((y: number) => number)[] = [0, 1, 2, 3, 4].map(
          (f) => () => f,
        );
        schedules.push((y) => (y * 3 + 1) % 5); // 1, 4, 2, 0, 3, 1
        for (const filter of schedules) {
          const spec = {
            width,
            height,
            bitDepth,
            colorType,
            filter,
            before: palette,
          };
          const bytes = writePng(spec, packed);
          const label = `${colorType}/${bitDepth} w${width} f${filter(0)},${
            filter(1)
          }`;
          assertSameBytes(decodePng(bytes).data, oldDecode(bytes), label);
        }
      }
    }
  }
});

Deno.test("decodePng composites tRNS and alpha over white", () => {
  const u16 = (...values: number[]) =>
    new Uint8Array(values.flatMap((v) => [v >> 8, v & 255]));
  const cases: [PngSpec, Uint8Array, number[]][] = [
    // 16-bit gray: the key is compared whole, not by its high byte.
    [
      {
        width: 2,
        height: 1,
        bitDepth: 16,
        colorType: 0,
        before: [["tRNS", u16(0x1234)]],
      },
      u16(0x1234, 0x1235),
      [255, 255, 255, 0x12, 0x12, 0x12],
    ],
    // 4-bit gray: samples scaled by 17, the key at the file's depth.
    [
      {
        width: 2,
        height: 1,
        bitDepth: 4,
        colorType: 0,
        before: [["tRNS", u16(3)]],
      },
      new Uint8Array([0x35]),
      [255, 255, 255, 85, 85, 85],
    ],
    // 8-bit RGB.
    [
      {
        width: 2,
        height: 1,
        bitDepth: 8,
        colorType: 2,
        before: [["tRNS", u16(1, 2, 3)]],
      },
      new Uint8Array([1, 2, 3, 1, 2, 4]),
      [255, 255, 255, 1, 2, 4],
    ],
    // 16-bit RGB: the low bytes differ, so the second pixel stays.
    [
      {
        width: 2,
        height: 1,
        bitDepth: 16,
        colorType: 2,
        before: [["tRNS", u16(0x100, 0x200, 0x300)]],
      },
      u16(0x100, 0x200, 0x300, 0x100, 0x200, 0x301),
      [255, 255, 255, 1, 2, 3],
    ],
    // Palette with a tRNS shorter than the palette (the rest is opaque).
    [
      {
        width: 3,
        height: 1,
        bitDepth: 8,
        colorType: 3,
        before: [
          ["PLTE", new Uint8Array([200, 100, 0, 10, 20, 30, 40, 50, 60])],
          ["tRNS", new Uint8Array([128, 0])],
        ],
      },
      new Uint8Array([0, 1, 2]),
      [227, 177, 127, 255, 255, 255, 40, 50, 60],
    ],
    // Gray + alpha, 8-bit: round((c·a + 255·(255 − a)) / 255).
    [
      { width: 2, height: 1, bitDepth: 8, colorType: 4 },
      new Uint8Array([0, 51, 100, 255]),
      [204, 204, 204, 100, 100, 100],
    ],
  ];
  for (const [spec, packed, expected] of cases) {
    const bytes = writePng(spec, packed);
    assert.deepEqual([...decodePng(bytes).data], expected);
    assert.deepEqual([...oldDecode(bytes)], expected);
  }
});

Deno.test("decodePng maps palette indices past the palette to black, as imagescript does", () => {
  const bytes = writePng(
    {
      width: 2,
      height: 1,
      bitDepth: 8,
      colorType: 3,
      before: [["PLTE", new Uint8Array([9, 8, 7])]],
    },
    new Uint8Array([0, 5]),
  );
  assert.deepEqual([...decodePng(bytes).data], [9, 8, 7, 0, 0, 0]);
  assert.deepEqual(decodePng(bytes).data, oldDecode(bytes));
});

Deno.test("decodeImage decodes 1x20,000,000 and 20,000,000x1 PNGs that imagescript could not", async () => {
  for (const [width, height] of [[1, 20_000_000], [20_000_000, 1]]) {
    // All-zero rows, filter 0 (60 MB of pixels, 80 MB inflated).
    const idat = deflateSync(new Uint8Array(height * (width * 3 + 1)), {
      level: 1,
    });
    const png = assemble({ width, height, bitDepth: 8, colorType: 2 }, [
      ["IDAT", idat],
    ]);
    assert.throws(() => imagescript.decode(png), /failed to decode/);
    const image = await decodeImage(png);
    assert.equal(image.width, width);
    assert.equal(image.height, height);
    assert.equal(image.data.length, 60_000_000);
    assert.ok(image.data.every((v) => v === 0));
  }
});

Deno.test("decodeImage rejects corrupt image data that has good CRCs", async () => {
  const spec = { width: 4, height: 3, bitDepth: 8, colorType: 2 };
  const pixels = noise(4 * 3 * 3, 7);
  const stream = deflateSync(
    writePngRows(spec, pixels, () => 4),
  );
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated IDAT", stream.subarray(0, stream.length >> 1), /truncated/],
    ["no checksum", stream.subarray(0, stream.length - 4), /truncated/],
    [
      "complete stream, a row short",
      deflateSync(writePngRows(spec, pixels, () => 4).subarray(0, 26)),
      /image data is truncated/,
    ],
    [
      "too much data",
      deflateSync(
        concat([writePngRows(spec, pixels, () => 4), new Uint8Array(13)]),
      ),
      /too much image data/,
    ],
    [
      "not zlib",
      new Uint8Array([0x78, 0x9c, 0xff, 0xff, 0xff, 0]),
      /bad zlib data/,
    ],
    ["bad checksum", flipLast(stream), /bad zlib data: incorrect data check/],
    ["empty IDAT", new Uint8Array(0), /truncated/],
    [
      "unknown filter byte",
      deflateSync(writePngRows(spec, pixels, (y) => (y === 1 ? 5 : 0))),
      /row 1 has unknown filter type 5/,
    ],
  ];
  for (const [label, idat, pattern] of cases) {
    const png = assemble(spec, [["IDAT", idat]]);
    assert.throws(() => decodePng(png), isInvalidImage(pattern), label);
    await assert.rejects(decodeImage(png), isInvalidImage(pattern), label);
  }
});

Deno.test("decodePng rejects a palette image without PLTE and a bad IHDR", () => {
  const palette = assemble(
    { width: 1, height: 1, bitDepth: 8, colorType: 3 },
    [["IDAT", deflateSync(new Uint8Array(2))]],
  );
  assert.throws(() => decodePng(palette), isInvalidImage(/without PLTE/));
  const depth = assemble(
    { width: 1, height: 1, bitDepth: 4, colorType: 2 },
    [["IDAT", deflateSync(new Uint8Array(2))]],
  );
  assert.throws(() => decodePng(depth), isInvalidImage(/bit depth 4/));
});

Deno.test("decodePng reads image data split over several IDAT chunks", async () => {
  const png = await Deno.readFile(new URL("chelsea.png", FIXTURES));
  const chunks = readChunks(png).slice(1, -1); // all but IHDR and IEND
  const split: [string, Uint8Array][] = [];
  for (const [type, data] of chunks) {
    if (type !== "IDAT") {
      split.push([type, data]);
      continue;
    }
    const cuts = [0, 1, 1000, data.length >> 1, data.length];
    for (let i = 1; i < cuts.length; i++) {
      split.push(["IDAT", data.subarray(cuts[i - 1], cuts[i])]);
    }
  }
  const header = { width: 451, height: 300, bitDepth: 8, colorType: 2 };
  const resplit = assemble(header, split);
  const idats = readChunks(resplit).filter(([type]) => type === "IDAT");
  assert.equal(idats.length, 4 * chunks.filter(([t]) => t === "IDAT").length);
  assertSameBytes(
    (await decodeImage(resplit)).data,
    decodePng(png).data,
    "split",
  );
});

Deno.test("decodeImage still decodes Adam7-interlaced PNGs (through imagescript)", async () => {
  const interlaced = await Deno.readFile(
    new URL("png/rgb_8_interlaced.png", FIXTURES),
  );
  const plain = await Deno.readFile(new URL("png/rgb_8_filters.png", FIXTURES));
  assert.ok(isInterlacedPng(interlaced));
  assert.ok(!isInterlacedPng(plain));
  assert.throws(() => decodePng(interlaced), isInvalidImage(/interlaced/));
  assert.deepEqual(
    (await decodeImage(interlaced)).data,
    (await decodeImage(plain)).data,
  );
});

Deno.test("decodePng gives small images a buffer of their own", async () => {
  // Small inflated buffers come from a pool shared with other Buffers.
  const png = await Deno.readFile(new URL("png/rgb_8_filters.png", FIXTURES));
  const { data } = decodePng(png);
  assert.equal(data.byteOffset, 0);
  assert.equal(data.buffer.byteLength, 13 * 7 * 3);
});
