/**
 * Sessions whose weights stay in the caller's buffers (in-memory external
 * data) run the same numbers as sessions from self-contained bytes.
 */
import assert from "node:assert/strict";
import { encodeSessionModel } from "../../../models/onnx/external_data.ts";
import {
  decodeModel,
  encodeModel,
  type ModelProto,
} from "../../../models/onnx/proto.ts";
import {
  createSession,
  loadOrt,
  openSessions,
} from "../../../models/onnx/session.ts";
import { floatTensor } from "../../../models/onnx/tensors.ts";
import { ModelLoadError } from "../../../models/tfjs/io.ts";
import { fixturePath } from "./_onnx_fixtures.ts";

/** y = x · w + b: w (4×3 floats) large enough to go external, b not. */
function affine(w: Float32Array, b: Float32Array): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "",
    producerVersion: "",
    graph: {
      name: "affine",
      nodes: [{
        name: "gemm",
        opType: "Gemm",
        domain: "",
        inputs: ["x", "w", "b"],
        outputs: ["y"],
        attributes: [],
      }],
      initializers: [
        floatTensor("w", { dims: [4, 3], data: w }),
        floatTensor("b", { dims: [3], data: b }),
      ],
      inputs: [{ name: "x", elemType: 1, shape: [1, 4] }],
      outputs: [{ name: "y", elemType: 1, shape: [1, 3] }],
      valueInfo: [],
    },
  };
}

Deno.test("large initializers go external, one file per buffer; the model is not changed", () => {
  const shared = new Float32Array(64);
  const w = shared.subarray(16, 28); // at byte offset 64 of a shared buffer
  w.set([1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5]);
  const b = new Float32Array([0.5, -1, 2]);
  const model = affine(w, b);
  const { bytes, files } = encodeSessionModel(model, { minBytes: 48 });
  assert.equal(files.length, 1);
  assert.equal(files[0]?.data.buffer, shared.buffer); // not copied
  assert.equal(files[0]?.data.byteLength, shared.byteLength);
  // The bytes hold b's values, not w's.
  const contains = (haystack: Uint8Array, values: Float32Array) => {
    const needle = new Uint8Array(
      values.buffer,
      values.byteOffset,
      values.byteLength,
    );
    return haystack.some((_, i) =>
      needle.every((v, k) => haystack[i + k] === v)
    );
  };
  assert.equal(contains(encodeModel(model), w), true);
  assert.equal(contains(bytes, w), false);
  assert.equal(contains(bytes, b), true);
  assert.equal(model.graph.initializers[0]?.rawData?.byteLength, 48);
  assert.equal(model.graph.initializers[0]?.external, undefined);
  // The location survives encoding (our decoder refuses external data and names it).
  assert.throws(
    () => decodeModel(bytes),
    (e: Error) =>
      e instanceof ModelLoadError &&
      /tensor "w" keeps its data in an external file \("lumen-weights-0"\)/
        .test(e.message),
  );
});

Deno.test("a session over external data computes what the self-contained model does", async () => {
  const ort = await loadOrt();
  const shared = new Float32Array(64).map((_, i) => (i % 7) - 3);
  const model = affine(shared.subarray(5, 17), new Float32Array([1, 2, 3]));
  const x = new ort.Tensor("float32", new Float32Array([1, -2, 0.5, 4]), [
    1,
    4,
  ]);
  const outputs = [];
  for (
    const bytes of [
      encodeModel(model),
      encodeSessionModel(model, { minBytes: 1 }),
    ]
  ) {
    const handle = await createSession(ort, bytes, { threads: 1 });
    const out = await handle.use((run) => run({ x }, ["y"]));
    handle.release();
    outputs.push(Array.from(out.y!.data as Float32Array));
    out.y!.dispose();
  }
  assert.deepEqual(outputs[1], outputs[0]);
  // w at float offset 5: rows [2,3,-3], [-2,-1,0], [1,2,3], [-3,-2,-1].
  assert.deepEqual(outputs[0], [
    1 + 2 + 4 + 0.5 - 12,
    2 + 3 + 2 + 1 - 8,
    3 - 3 + 0 + 1.5 - 4,
  ]);
});

Deno.test("a torchvision file as external data: same logits, session released", async () => {
  const ort = await loadOrt();
  const file = await Deno.readFile(fixturePath("resnet18.onnx"));
  const model = decodeModel(file);
  const external = encodeSessionModel(model);
  assert.equal(external.files.length, 1);
  assert.equal(external.files[0]?.data.buffer, file.buffer); // the file, as read
  const x = new ort.Tensor(
    "float32",
    new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i)),
    [1, 3, 64, 64],
  );
  const before = openSessions();
  const logits = [];
  for (const bytes of [file, external]) {
    const handle = await createSession(ort, bytes, { threads: 1 });
    assert.equal(openSessions(), before + 1);
    const out = await handle.use((run) =>
      run({ input: x }, handle.outputNames)
    );
    handle.release();
    assert.equal(openSessions(), before);
    const t = out[handle.outputNames[0]!]!;
    logits.push(Array.from(t.data as Float32Array));
    t.dispose();
  }
  assert.deepEqual(logits[1], logits[0]);
});
