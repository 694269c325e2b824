import assert from "node:assert/strict";
import { assertSameBytes } from "../_bytes.ts";
import { ClientError } from "../../lib/errors.ts";
import { decodeImage, DEFAULT_MAX_PIXELS } from "../../lib/image.ts";
import { decodePng } from "../../lib/png_decode.ts";
import {
  blend,
  encodePng,
  renderExplanation,
  renderExplanationRgb,
  renderPngs,
  sameRendering,
  toDataUrl,
} from "../../lib/render.ts";
import { FAST_PNG } from "../../lib/zlib.ts";
import { decodeBase64Image } from "../../lib/base64.ts";
import { gaussianSource } from "../../lib/random.ts";

const image = {
  width: 3,
  height: 2,
  data: new Uint8Array([
    0,
    0,
    0,
    255,
    255,
    255,
    10,
    20,
    30,
    100,
    150,
    200,
    1,
    2,
    3,
    250,
    128,
    7,
  ]),
};

function isClientError(code: string, message?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ClientError, `not a ClientError: ${error}`);
    assert.equal(error.code, code);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  };
}

Deno.test("blend mixes image and colour per byte with rounding", () => {
  const colour = new Uint8Array(18).fill(255);
  assert.deepEqual(
    [...blend(image, colour, { alpha: 0.5 })],
    [...image.data].map((v) => Math.round(0.5 * v + 127.5)),
  );
  assert.deepEqual(blend(image, colour, { alpha: 0 }), image.data);
  assert.deepEqual([...blend(image, colour, { alpha: 1 })], [...colour]);
});

Deno.test("a zero map blends jet's colour at 0 over the image", () => {
  const map = { values: new Float32Array(4), width: 2, height: 2 }; // zeros
  const { overlay, heatmap } = renderExplanationRgb(image, map, {
    alpha: 0.3,
  });
  const jet0 = [0, 0, 128];
  assert.deepEqual([...heatmap], [0, 1, 2, 3, 4, 5].flatMap(() => jet0));
  assert.deepEqual(
    [...overlay],
    [...image.data].map((v, i) => Math.round(0.7 * v + 0.3 * jet0[i % 3])),
  );
});

Deno.test("the map is upsampled to the image size before colouring", () => {
  // A 1x2 map [0, 1] over a 1x4 image: rows sample 0, 0.25, 0.75, 1 -> gray
  // 0, 64 (63.75), 191 (191.25), 255.
  const tall = { width: 1, height: 4, data: new Uint8Array(12) };
  const { heatmap } = renderExplanationRgb(
    tall,
    { values: new Float32Array([0, 1]), width: 1, height: 2 },
    { colormap: "gray" },
  );
  assert.deepEqual([...heatmap], [
    0,
    0,
    0,
    64,
    64,
    64,
    191,
    191,
    191,
    255,
    255,
    255,
  ]);
});

Deno.test("render options are validated", () => {
  const map = { values: new Float32Array(1), width: 1, height: 1 };
  assert.throws(
    () => renderExplanationRgb(image, map, { alpha: 2 }),
    isClientError("BAD_USER_INPUT", "alpha must be between 0 and 1, got 2"),
  );
  assert.throws(
    () => renderExplanationRgb(image, map, { alpha: NaN }),
    isClientError("BAD_USER_INPUT"),
  );
  assert.throws(
    () => renderExplanationRgb(image, map, { colormap: "rainbow" }),
    isClientError("UNKNOWN_COLORMAP"),
  );
});

Deno.test("encodePng output decodes back to the same pixels", async () => {
  const png = await encodePng(image);
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  const back = await decodeImage(png);
  assert.equal(back.width, 3);
  assert.equal(back.height, 2);
  assert.deepEqual(back.data, image.data);
});

Deno.test("toDataUrl wraps PNG bytes as base64", () => {
  assert.equal(
    toDataUrl(new Uint8Array([0x89, 0x50, 0x4e, 0x47])),
    "data:image/png;base64,iVBORw==",
  );
});

/** Decodes a PNG data URL. */
async function decodeDataUrl(url: string) {
  assert.ok(url.startsWith("data:image/png;base64,"));
  return await decodeImage(decodeBase64Image(url, 1 << 20));
}

Deno.test("renderExplanation returns PNG data URLs of hand-computed pixels at the image size", async () => {
  // A map at the image's size (no upsampling) on the gray ramp: value v is
  // gray level 255·v; the overlay is round(0.6·image + 0.4·gray).
  const values = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const result = await renderExplanation(
    image,
    { values: new Float32Array(values), width: 3, height: 2 },
    { colormap: "gray", alpha: 0.4 },
  );
  const gray = [0, 51, 102, 153, 204, 255];
  const heatmap = await decodeDataUrl(result.heatmap);
  assert.deepEqual([heatmap.width, heatmap.height], [3, 2]);
  assert.deepEqual([...heatmap.data], gray.flatMap((g) => [g, g, g]));
  const overlay = await decodeDataUrl(result.overlay);
  assert.deepEqual([overlay.width, overlay.height], [3, 2]);
  assert.deepEqual(
    [...overlay.data],
    [...image.data].map((v, i) =>
      Math.round(0.6 * v + 0.4 * gray[Math.floor(i / 3)])
    ),
  );
});

Deno.test("viridis colours 0, ½ and 1 as matplotlib's #440154, #21918c and #fde725", async () => {
  const result = await renderExplanation(
    image,
    {
      values: new Float32Array([0, 128 / 255, 1, 1, 128 / 255, 0]),
      width: 3,
      height: 2,
    },
    { colormap: "viridis", alpha: 1 },
  );
  const [low, middle, high] = [[0x44, 0x01, 0x54], [0x21, 0x91, 0x8c], [
    0xfd,
    0xe7,
    0x25,
  ]];
  const expected = [low, middle, high, high, middle, low].flat();
  assert.deepEqual([...(await decodeDataUrl(result.heatmap)).data], expected);
  // α = 1: the overlay is the colour alone.
  assert.deepEqual([...(await decodeDataUrl(result.overlay)).data], expected);
});

Deno.test("renderPngs with Sub rows filters while it blends: the same bytes as blending, then filtering", async () => {
  const photo = await decodeImage(
    await Deno.readFile(new URL("../fixtures/chelsea.png", import.meta.url)),
  );
  const odd = { width: 7, height: 5, data: photo.data.subarray(0, 7 * 5 * 3) };
  // Values below 0, above 1 and NaN (coloured as 0) too.
  const values = Float32Array.from({ length: 49 }, (_, i) => Math.cos(i) + 0.5);
  values[3] = NaN;
  const map = { values, width: 7, height: 7 };
  const outputs = [
    { overlay: true, heatmap: true },
    { overlay: true, heatmap: false },
    { overlay: false, heatmap: true },
  ];
  // One setting changes at a time: no table is kept from the last call.
  const settings = [
    { colormap: "jet", alpha: 0.45 },
    { colormap: "viridis", alpha: 0.45 },
    { colormap: "viridis", alpha: 0.3 },
    { colormap: "jet", alpha: 0.3 },
  ];
  for (const image of [photo, odd]) {
    for (const options of settings) {
      {
        const rgb = renderExplanationRgb(image, map, options);
        const { width, height } = image;
        const overlay = await encodePng(
          { width, height, data: rgb.overlay },
          FAST_PNG,
        );
        const heatmap = await encodePng(
          { width, height, data: rgb.heatmap },
          FAST_PNG,
        );
        for (const output of outputs) {
          const fused = await renderPngs(image, map, {
            ...options,
            ...FAST_PNG,
            ...output,
          });
          const label = `${image.width}×${image.height} ${
            JSON.stringify({ ...options, ...output })
          }`;
          assertSameBytes(
            fused.overlay,
            output.overlay ? overlay : undefined,
            label,
          );
          assertSameBytes(
            fused.heatmap,
            output.heatmap ? heatmap : undefined,
            label,
          );
        }
      }
    }
  }
});

Deno.test("sameRendering: equal maps, and maps whose upsampled pixels round to the same levels; not a level apart, nor another size, nor NaN on one side", () => {
  const grid = (values: number[], width = values.length) => ({
    width,
    height: values.length / width,
    values: new Float32Array(values),
  });
  const image = { width: 9, height: 4 };
  assert.equal(
    sameRendering(grid([0, 0.37, 1]), grid([0, 0.37, 1]), image),
    true,
  );
  assert.equal(
    sameRendering(grid([0, 0.37, 1]), grid([0, 0.37 + 1e-6, 1]), image),
    true,
  );
  // At the map's own size each pixel is a value: 84.5 is the edge of
  // levels 84 and 85.
  const edge = (side: number) => grid([(84.5 + side * 1e-4) / 255, 1]);
  assert.equal(
    sameRendering(edge(-1), edge(1), { width: 2, height: 1 }),
    false,
  );
  assert.equal(
    sameRendering(edge(-1), edge(-1), { width: 2, height: 1 }),
    true,
  );
  assert.equal(sameRendering(grid([0.2, 1]), grid([0.21, 1]), image), false);
  assert.equal(
    sameRendering(grid([0, 0, 0, 1]), grid([0, 0, 0, 1], 2), image),
    false,
  );
  // Above 1 every value is level 255 (and below 0 level 0), however far.
  const own = { width: 2, height: 1 };
  assert.equal(sameRendering(grid([1.2, 0.3]), grid([1.203, 0.3]), own), true);
  assert.equal(
    sameRendering(grid([-0.2, 0.3]), grid([-0.203, 0.3]), own),
    true,
  );
  assert.equal(sameRendering(grid([NaN, 1]), grid([0, 1]), image), false);
  assert.equal(sameRendering(grid([0, 1]), grid([NaN, 1]), image), false);
});

Deno.test("sameRendering is never wrong: maps it calls alike render to the same PNG bytes (random near-equal maps, both answers seen)", async () => {
  const photo = await decodeImage(
    await Deno.readFile(new URL("../fixtures/chelsea.png", import.meta.url)),
  );
  const image = {
    width: 61,
    height: 37,
    data: photo.data.subarray(0, 61 * 37 * 3),
  };
  const random = gaussianSource(7);
  const seen = { alike: 0, apart: 0 };
  for (let trial = 0; trial < 60; trial++) {
    // Scaled maps lie in [0, 1]; every fourth trial goes beyond it.
    const spread = trial % 4 === 3 ? 1.4 : 1;
    const a = Float32Array.from(
      { length: 25 },
      () => (Math.abs(random()) % 1) * spread - (spread - 1) / 2,
    );
    // Nudged by 1e-3 to 1e-7: the larger nudges move some pixels across a
    // level's edge, the smaller ones seldom.
    const nudge = 10 ** -(3 + trial % 5);
    const b = a.map((v) =>
      spread === 1
        ? Math.min(1, Math.max(0, v + random() * nudge))
        : v + random() * nudge
    );
    const [mapA, mapB] = [a, b].map((values) => ({
      width: 5,
      height: 5,
      values,
    }));
    const options = {
      colormap: "jet",
      alpha: 0.3,
      overlay: true,
      heatmap: true,
    };
    const [pngA, pngB] = await Promise.all(
      [mapA, mapB].map((m) =>
        renderPngs(image, m, { ...options, ...FAST_PNG })
      ),
    );
    if (sameRendering(mapA, mapB, image)) {
      seen.alike++;
      assertSameBytes(pngB.overlay, pngA.overlay, `trial ${trial}`);
      assertSameBytes(pngB.heatmap, pngA.heatmap, `trial ${trial}`);
    } else seen.apart++;
  }
  assert.ok(seen.alike > 0 && seen.apart > 0, JSON.stringify(seen));
});

Deno.test("renderPngs encodes an overlay at the largest image the server takes (DEFAULT_MAX_PIXELS): it decodes to the blended pixels", async () => {
  const width = 8000, height = DEFAULT_MAX_PIXELS / width;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 27;
  const image = { width, height, data };
  const values = Float32Array.from({ length: 49 }, (_, i) => Math.sin(i) + 0.5);
  const map = { values, width: 7, height: 7 };
  const { overlay } = await renderPngs(image, map, {
    ...FAST_PNG,
    overlay: true,
    heatmap: false,
  });
  const decoded = decodePng(overlay!);
  assert.deepEqual([decoded.width, decoded.height], [width, height]);
  const expected = renderExplanationRgb(image, map).overlay;
  assertSameBytes(decoded.data, expected, "the decoded overlay");
});
