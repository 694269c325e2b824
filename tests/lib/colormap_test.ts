import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import { applyColormap, colormapLut, COLORMAPS } from "../../lib/colormap.ts";

function rgbAt(name: string, index: number): number[] {
  return [...colormapLut(name).subarray(index * 3, index * 3 + 3)];
}

Deno.test("COLORMAPS lists the supported names", () => {
  assert.deepEqual([...COLORMAPS], [
    "jet",
    "viridis",
    "inferno",
    "turbo",
    "gray",
  ]);
});

Deno.test("colormap tables match OpenCV's applyColorMap", () => {
  // cv2.applyColorMap(np.uint8([[0], [128], [255], [64]]), cv2.COLORMAP_*),
  // OpenCV 4.6.0, converted from BGR to RGB.
  const expected: Record<string, number[][]> = {
    jet: [[0, 0, 128], [130, 255, 126], [128, 0, 0], [0, 128, 255]],
    viridis: [[68, 1, 84], [33, 145, 140], [253, 231, 37], [59, 82, 139]],
    inferno: [[0, 0, 4], [188, 55, 84], [252, 255, 164], [87, 16, 110]],
    turbo: [[48, 18, 59], [164, 252, 60], [122, 4, 3], [40, 188, 235]],
    gray: [[0, 0, 0], [128, 128, 128], [255, 255, 255], [64, 64, 64]],
  };
  for (const [name, points] of Object.entries(expected)) {
    assert.equal(colormapLut(name).length, 768);
    [0, 128, 255, 64].forEach((index, i) => {
      assert.deepEqual(rgbAt(name, index), points[i], `${name} at ${index}`);
    });
  }
});

Deno.test("applyColormap quantises to round(v * 255), clamped", () => {
  const out = applyColormap(
    new Float32Array([0, 0.5, 1, -3, 7, NaN, 64.4 / 255]),
    "jet",
  );
  assert.deepEqual([...out], [
    0,
    0,
    128, // 0
    130,
    255,
    126, // 0.5 -> 128
    128,
    0,
    0, // 1
    0,
    0,
    128, // clamped to 0
    128,
    0,
    0, // clamped to 255
    0,
    0,
    128, // NaN as 0
    0,
    128,
    255, // rounds to 64
  ]);
});

Deno.test("unknown colormaps are client errors listing the valid ones", () => {
  for (
    const call of [
      () => colormapLut("hot"),
      () => applyColormap(new Float32Array(1), "hot"),
    ]
  ) {
    assert.throws(call, (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, "UNKNOWN_COLORMAP");
      assert.equal(
        error.message,
        'Unknown colormap "hot": valid colormaps are "jet", "viridis", ' +
          '"inferno", "turbo", "gray"',
      );
      return true;
    });
  }
});

Deno.test("colormapLut returns a copy", () => {
  const lut = colormapLut("viridis");
  lut.fill(0);
  assert.deepEqual(rgbAt("viridis", 0), [68, 1, 84]);
});
