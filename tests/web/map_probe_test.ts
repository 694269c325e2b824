import assert from "node:assert/strict";
import {
  cellAt,
  downloadName,
  mapJson,
  moveCell,
} from "../../web/client/map_probe.ts";

const MAP = { width: 3, height: 2, values: [0, 0.1, 0.2, 0.3, 0.4, 0.5] };
/** The overlay's displayed size, in pixels. */
const SHOWN = { width: 300, height: 200 };

Deno.test("cellAt: the cell under a point of the displayed overlay", () => {
  assert.deepEqual(cellAt(MAP, { x: 0, y: 0, ...SHOWN }), {
    x: 0,
    y: 0,
    value: 0,
  });
  assert.deepEqual(cellAt(MAP, { x: 150, y: 150, ...SHOWN }), {
    x: 1,
    y: 1,
    value: 0.4,
  });
  assert.deepEqual(cellAt(MAP, { x: 299.9, y: 199.9, ...SHOWN }), {
    x: 2,
    y: 1,
    value: 0.5,
  });
});

Deno.test("cellAt: points on or past the edges clamp", () => {
  assert.deepEqual(cellAt(MAP, { x: 300, y: 200, ...SHOWN }), {
    x: 2,
    y: 1,
    value: 0.5,
  });
  assert.deepEqual(cellAt(MAP, { x: -5, y: -5, ...SHOWN }), {
    x: 0,
    y: 0,
    value: 0,
  });
});

Deno.test("moveCell: arrow keys move one cell and stop at the edges", () => {
  assert.deepEqual(moveCell(MAP, { from: { x: 0, y: 0 }, key: "ArrowRight" }), {
    x: 1,
    y: 0,
    value: 0.1,
  });
  assert.deepEqual(moveCell(MAP, { from: { x: 0, y: 0 }, key: "ArrowUp" }), {
    x: 0,
    y: 0,
    value: 0,
  });
  assert.deepEqual(moveCell(MAP, { from: { x: 2, y: 1 }, key: "ArrowDown" }), {
    x: 2,
    y: 1,
    value: 0.5,
  });
  assert.deepEqual(moveCell(MAP, { from: { x: 1, y: 1 }, key: "Enter" }), {
    x: 1,
    y: 1,
    value: 0.4,
  });
});

Deno.test("mapJson: the values with what they explain", () => {
  const doc = JSON.parse(
    mapJson({ ...MAP, rawMin: -1, rawMax: 2 }, { method: "gradcam" }),
  );
  assert.deepEqual(doc, {
    method: "gradcam",
    width: 3,
    height: 2,
    rawMin: -1,
    rawMax: 2,
    values: MAP.values,
  });
});

Deno.test("downloadName: safe names from the image's name", () => {
  assert.equal(
    downloadName("chelsea.png", {
      parts: ["gradcam", "overlay"],
      extension: "png",
    }),
    "chelsea_gradcam_overlay.png",
  );
  assert.equal(
    downloadName("my cat.v2.jpeg", { parts: ["map"], extension: "json" }),
    "my-cat.v2_map.json",
  );
  assert.equal(
    downloadName(".png", { parts: ["x"], extension: "json" }),
    "image_x.json",
  );
});
