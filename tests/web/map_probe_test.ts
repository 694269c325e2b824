import assert from "node:assert/strict";
import {
  cellAt,
  downloadName,
  mapJson,
  moveCell,
} from "../../web/client/map_probe.ts";

const MAP = { width: 3, height: 2, values: [0, 0.1, 0.2, 0.3, 0.4, 0.5] };

Deno.test("cellAt: the cell under a point of the displayed overlay", () => {
  assert.deepEqual(cellAt(MAP, 0, 0, 300, 200), { x: 0, y: 0, value: 0 });
  assert.deepEqual(cellAt(MAP, 150, 150, 300, 200), { x: 1, y: 1, value: 0.4 });
  assert.deepEqual(cellAt(MAP, 299.9, 199.9, 300, 200), {
    x: 2,
    y: 1,
    value: 0.5,
  });
});

Deno.test("cellAt: points on or past the edges clamp", () => {
  assert.deepEqual(cellAt(MAP, 300, 200, 300, 200), { x: 2, y: 1, value: 0.5 });
  assert.deepEqual(cellAt(MAP, -5, -5, 300, 200), { x: 0, y: 0, value: 0 });
});

Deno.test("moveCell: arrow keys move one cell and stop at the edges", () => {
  assert.deepEqual(moveCell(MAP, { x: 0, y: 0 }, "ArrowRight"), {
    x: 1,
    y: 0,
    value: 0.1,
  });
  assert.deepEqual(moveCell(MAP, { x: 0, y: 0 }, "ArrowUp"), {
    x: 0,
    y: 0,
    value: 0,
  });
  assert.deepEqual(moveCell(MAP, { x: 2, y: 1 }, "ArrowDown"), {
    x: 2,
    y: 1,
    value: 0.5,
  });
  assert.deepEqual(moveCell(MAP, { x: 1, y: 1 }, "Enter"), {
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
    downloadName("chelsea.png", ["gradcam", "overlay"], "png"),
    "chelsea_gradcam_overlay.png",
  );
  assert.equal(
    downloadName("my cat.v2.jpeg", ["map"], "json"),
    "my-cat.v2_map.json",
  );
  assert.equal(downloadName(".png", ["x"], "json"), "image_x.json");
});
