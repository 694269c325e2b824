import assert from "node:assert/strict";
import { COLORMAPS } from "../../lib/colormap.ts";
import { renderExplanationRgb } from "../../lib/render.ts";
import { isEmptyMap, overlayRenderer } from "../../web/client/overlay.ts";

function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

Deno.test("overlayRenderer: the server's overlay bytes for every colour map and α, in any order", () => {
  const random = seeded(3);
  const image = { width: 45, height: 30, data: new Uint8Array(45 * 30 * 3) };
  image.data.forEach((_, i) => image.data[i] = Math.floor(random() * 256));
  const map = new Float32Array(7 * 5).map(() => random());
  map[0] = 0;
  map[1] = 1;
  // As the page gets it: float32 values through JSON.
  const values = JSON.parse(JSON.stringify(Array.from(map)));
  const renderer = overlayRenderer(image, { width: 7, height: 5, values });
  for (const alpha of [0, 0.3, 0.45, 1]) {
    for (const colormap of [...COLORMAPS, "jet"]) {
      const server = renderExplanationRgb(
        image,
        { values: map, width: 7, height: 5 },
        { colormap, alpha },
      );
      assert.deepEqual(
        renderer.render(colormap, alpha),
        server.overlay,
        `${colormap}, α ${alpha}`,
      );
    }
  }
});

Deno.test("overlayRenderer: refuses what the server refuses", () => {
  const image = { width: 1, height: 1, data: new Uint8Array(3) };
  const renderer = overlayRenderer(image, {
    width: 1,
    height: 1,
    values: [0.5],
  });
  assert.throws(() => renderer.render("rainbow", 0.3), /Unknown colormap/);
  assert.throws(() => renderer.render("jet", 1.5), /alpha must be between/);
});

Deno.test("isEmptyMap: only an all-zero map is empty", () => {
  assert.equal(isEmptyMap({ width: 2, height: 1, values: [0, 0] }), true);
  assert.equal(isEmptyMap({ width: 2, height: 1, values: [0, 1e-7] }), false);
});
