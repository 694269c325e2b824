import assert from "node:assert/strict";
import { encodeNpy } from "../../lib/npy.ts";

function parse(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint16(8, true);
  const header = new TextDecoder().decode(
    bytes.subarray(10, 10 + headerLength),
  );
  const start = 10 + headerLength;
  const values = new Float32Array((bytes.length - start) / 4);
  values.forEach((_, i) => values[i] = view.getFloat32(start + 4 * i, true));
  return { magic: [...bytes.subarray(0, 8)], header, start, values };
}

Deno.test("encodeNpy: a version 1.0 header, float32 little-endian, C order", () => {
  const values = new Float32Array([0, 0.5, 1, 0.25, 0.125, 0.75]);
  const { magic, header, start, values: read } = parse(
    encodeNpy({ values, width: 3, height: 2 }),
  );
  assert.deepEqual(magic, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  assert.equal(
    header.trimEnd(),
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
  );
  assert.ok(header.endsWith("\n"));
  assert.equal(start % 64, 0);
  assert.deepEqual(read, values);
});

Deno.test("encodeNpy: the input is not modified; a size mismatch throws", () => {
  const values = new Float32Array([1, 2]);
  encodeNpy({ values, width: 2, height: 1 });
  assert.deepEqual(values, new Float32Array([1, 2]));
  assert.throws(() => encodeNpy({ values, width: 3, height: 1 }), RangeError);
});
