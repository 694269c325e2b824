import assert from "node:assert/strict";
import { Reader, Writer } from "../../../models/onnx/_wire.ts";
import {
  decodeModel,
  encodeModel,
  type ModelProto,
} from "../../../models/onnx/proto.ts";
import {
  floatAttr,
  floatTensor,
  int64Tensor,
  intAttr,
  intsAttr,
  readFloats,
  readInts,
  stringAttr,
  tensorAttr,
} from "../../../models/onnx/tensors.ts";
import { ModelLoadError } from "../../../models/tfjs/io.ts";
import { fixturePath } from "./_onnx_fixtures.ts";

Deno.test("varints round-trip, int64 limits and negatives included", () => {
  const values = [
    0,
    1,
    127,
    128,
    300,
    2 ** 31,
    2 ** 32 + 5,
    2 ** 53 - 1,
    -1,
    -2,
    -(2 ** 40),
  ];
  const w = new Writer();
  for (const v of values) w.varint(v);
  w.varint(2 ** 63); // a double's INT64_MAX: written as INT64_MAX, not wrapped
  const r = new Reader(w.finish());
  for (const v of values) assert.equal(r.varint(), v);
  assert.ok(r.varint() > 9.2e18);
  // -1 as int64 takes ten bytes.
  const one = new Writer();
  one.varint(-1);
  assert.equal(one.length, 10);
});

Deno.test("a model with every kind of field round-trips", () => {
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }, {
      domain: "com.microsoft",
      version: 1,
    }],
    producerName: "lumen-test",
    producerVersion: "1",
    graph: {
      name: "g",
      nodes: [{
        name: "n0",
        opType: "Conv",
        domain: "",
        inputs: ["x", "w", ""],
        outputs: ["y"],
        attributes: [
          intAttr("group", 2),
          intsAttr("pads", [1, 1, -1, 1]),
          floatAttr("alpha", 0.25),
          stringAttr("auto_pad", "NOTSET"),
          tensorAttr("value", int64Tensor("", { dims: [2], values: [-7, 9] })),
        ],
      }],
      initializers: [
        floatTensor("w", {
          dims: [2, 1, 1, 1],
          data: new Float32Array([0.5, -1.5]),
        }),
        { name: "f", dims: [2], dataType: 1, floatData: [1.25, -2] },
        { name: "i", dims: [2], dataType: 7, int64Data: [-3, 4] },
      ],
      inputs: [{ name: "x", elemType: 1, shape: ["N", 2, 4, null] }],
      outputs: [{ name: "y", elemType: 1, shape: null }],
      valueInfo: [{ name: "t", elemType: 7, shape: [3] }],
    },
  };
  const decoded = decodeModel(encodeModel(model));
  assert.equal(decoded.irVersion, 8);
  assert.deepEqual(decoded.opsetImport, model.opsetImport);
  assert.equal(decoded.producerName, "lumen-test");
  const [node] = decoded.graph.nodes;
  assert.deepEqual(node.inputs, ["x", "w", ""]);
  assert.equal(node.attributes[0].i, 2);
  assert.deepEqual(node.attributes[1].ints, [1, 1, -1, 1]);
  assert.equal(node.attributes[2].f, 0.25);
  assert.equal(new TextDecoder().decode(node.attributes[3].s), "NOTSET");
  assert.deepEqual(readInts(node.attributes[4].t!), [-7, 9]);
  const [w, f, i] = decoded.graph.initializers;
  assert.deepEqual([...readFloats(w)], [0.5, -1.5]);
  assert.deepEqual([...readFloats(f)], [1.25, -2]);
  assert.deepEqual(readInts(i), [-3, 4]);
  assert.deepEqual(decoded.graph.inputs[0].shape, ["N", 2, 4, null]);
  assert.equal(decoded.graph.outputs[0].shape, null);
  assert.deepEqual(decoded.graph.valueInfo[0], {
    name: "t",
    elemType: 7,
    shape: [3],
  });
});

Deno.test("a torchvision export decodes, and re-encodes to the same model", async () => {
  const bytes = await Deno.readFile(fixturePath("resnet18.onnx"));
  const model = decodeModel(bytes);
  assert.deepEqual(model.opsetImport, [{ domain: "", version: 17 }]);
  assert.equal(model.producerName, "pytorch");
  const g = model.graph;
  assert.equal(g.nodes.length, 49);
  assert.equal(g.nodes[0].opType, "Conv");
  assert.equal(g.nodes.at(-1)!.name, "/fc/Gemm");
  assert.deepEqual(g.inputs[0], {
    name: "input",
    elemType: 1,
    shape: ["batch", 3, 64, 64],
  });
  assert.deepEqual(g.outputs[0].shape, ["batch", 10]);
  const fc = g.initializers.find((t) => t.name === "fc.weight")!;
  assert.deepEqual(fc.dims, [10, 64]);
  assert.equal(readFloats(fc).length, 640);
  const again = decodeModel(encodeModel(model));
  assert.deepEqual(again.graph.nodes, g.nodes);
  assert.deepEqual(
    again.graph.initializers.map((t) => [t.name, t.dims, [...readFloats(t)]]),
    g.initializers.map((t) => [t.name, t.dims, [...readFloats(t)]]),
  );
});

Deno.test("weights in an external file are refused with a clear error", () => {
  const model = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "",
    producerVersion: "",
    graph: {
      name: "g",
      nodes: [{
        name: "n",
        opType: "Identity",
        domain: "",
        inputs: ["w"],
        outputs: ["y"],
        attributes: [],
      }],
      initializers: [{ name: "w", dims: [4], dataType: 1 }],
      inputs: [],
      outputs: [{ name: "y", elemType: 1, shape: [4] }],
      valueInfo: [],
    },
  });
  // Splice external_data {key: "location", value: "w.bin"} and data_location = EXTERNAL
  // into the initializer, as onnx.save_model(..., save_as_external_data=True) does.
  const tensor = new Writer();
  tensor.packedVarints(1, [4]);
  tensor.int(2, 1);
  tensor.string(8, "w");
  const entry = new Writer();
  entry.string(1, "location");
  entry.string(2, "w.bin");
  tensor.message(13, entry);
  tensor.int(14, 1);
  const graph = new Writer();
  graph.message(5, tensor);
  const outer = new Writer();
  outer.message(7, graph);
  const bytes = new Uint8Array([...model, ...outer.finish()]);
  assert.throws(
    () => decodeModel(bytes),
    (e: Error) =>
      e instanceof ModelLoadError &&
      /external file \("w\.bin"\)/.test(e.message) &&
      /save_as_external_data=False/.test(e.message),
  );
});

Deno.test("bytes that are not an ONNX file are refused", () => {
  assert.throws(
    () => decodeModel(new Uint8Array([0x0a, 0xff, 0xff])),
    ModelLoadError,
  );
  assert.throws(
    () => decodeModel(new TextEncoder().encode("not a model at all")),
    ModelLoadError,
  );
});

Deno.test("float16 and double tensors read as float32", () => {
  const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800]).buffer);
  assert.deepEqual([
    ...readFloats({ name: "", dims: [3], dataType: 10, rawData: half }),
  ], [1, -2, 0.5]);
  const double = new Uint8Array(new Float64Array([0.25, -3]).buffer);
  assert.deepEqual([
    ...readFloats({ name: "", dims: [2], dataType: 11, rawData: double }),
  ], [0.25, -3]);
});
