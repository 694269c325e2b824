/**
 * Decoding of ONNX files into the plain messages of `proto.ts`.
 *
 * @module
 */
import { ModelLoadError } from "../tfjs/io.ts";
import { BYTES, Reader, WireError } from "./_wire.ts";
import type {
  AttributeProto,
  Dim,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetId,
  TensorProto,
  ValueInfoProto,
} from "./proto.ts";

function readTensor(bytes: Uint8Array): TensorProto {
  const r = new Reader(bytes);
  const t: TensorProto = { name: "", dims: [], dataType: 0 };
  let external = false;
  let location = "";
  for (let f = r.next(); f; f = r.next()) {
    switch (f.field) {
      case 1:
        r.varints(f.wire, t.dims);
        break;
      case 2:
        t.dataType = r.varint();
        break;
      case 4:
        r.floats(f.wire, t.floatData ??= []);
        break;
      case 5:
        r.varints(f.wire, t.int32Data ??= []);
        break;
      case 7:
        r.varints(f.wire, t.int64Data ??= []);
        break;
      case 8:
        t.name = r.string();
        break;
      case 9:
        t.rawData = r.bytes();
        break;
      case 10:
        r.doubles(f.wire, t.doubleData ??= []);
        break;
      case 13: {
        external = true;
        const entry = new Reader(r.bytes());
        let key = "";
        let value = "";
        for (let e = entry.next(); e; e = entry.next()) {
          if (e.field === 1) key = entry.string();
          else if (e.field === 2) value = entry.string();
          else entry.skip(e.wire);
        }
        if (key === "location") location = value;
        break;
      }
      case 14:
        if (r.varint() === 1) external = true;
        break;
      default:
        r.skip(f.wire);
    }
  }
  if (external) {
    throw new ModelLoadError(
      `Cannot load model: tensor "${t.name}" keeps its data in an external file` +
        `${
          location ? ` ("${location}")` : ""
        }; save the model with its weights ` +
        "inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False))",
    );
  }
  return t;
}

function readAttribute(bytes: Uint8Array): AttributeProto {
  const r = new Reader(bytes);
  const a: AttributeProto = { name: "", type: 0 };
  for (let f = r.next(); f; f = r.next()) {
    switch (f.field) {
      case 1:
        a.name = r.string();
        break;
      case 2:
        a.f = r.float();
        break;
      case 3:
        a.i = r.varint();
        break;
      case 4:
        a.s = r.bytes();
        break;
      case 5:
        a.t = readTensor(r.bytes());
        break;
      case 6:
        a.g = readGraph(r.bytes());
        break;
      case 7:
        r.floats(f.wire, a.floats ??= []);
        break;
      case 8:
        r.varints(f.wire, a.ints ??= []);
        break;
      case 9:
        (a.strings ??= []).push(r.bytes());
        break;
      case 10:
        (a.tensors ??= []).push(readTensor(r.bytes()));
        break;
      case 11:
        (a.graphs ??= []).push(readGraph(r.bytes()));
        break;
      case 20:
        a.type = r.varint();
        break;
      default:
        r.skip(f.wire);
    }
  }
  return a;
}

function readNode(bytes: Uint8Array): NodeProto {
  const r = new Reader(bytes);
  const n: NodeProto = {
    name: "",
    opType: "",
    domain: "",
    inputs: [],
    outputs: [],
    attributes: [],
  };
  for (let f = r.next(); f; f = r.next()) {
    switch (f.field) {
      case 1:
        n.inputs.push(r.string());
        break;
      case 2:
        n.outputs.push(r.string());
        break;
      case 3:
        n.name = r.string();
        break;
      case 4:
        n.opType = r.string();
        break;
      case 5:
        n.attributes.push(readAttribute(r.bytes()));
        break;
      case 7:
        n.domain = r.string();
        break;
      default:
        r.skip(f.wire);
    }
  }
  return n;
}

function readShape(bytes: Uint8Array): Dim[] {
  const r = new Reader(bytes);
  const dims: Dim[] = [];
  for (let f = r.next(); f; f = r.next()) {
    if (f.field !== 1 || f.wire !== BYTES) {
      r.skip(f.wire);
      continue;
    }
    const d = new Reader(r.bytes());
    let dim: Dim = null;
    for (let g = d.next(); g; g = d.next()) {
      if (g.field === 1) dim = d.varint();
      else if (g.field === 2) dim = d.string();
      else d.skip(g.wire);
    }
    dims.push(dim);
  }
  return dims;
}

function readValueInfo(bytes: Uint8Array): ValueInfoProto {
  const r = new Reader(bytes);
  const v: ValueInfoProto = { name: "", elemType: 0, shape: null };
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) v.name = r.string();
    else if (f.field === 2) {
      const type = new Reader(r.bytes());
      for (let g = type.next(); g; g = type.next()) {
        if (g.field !== 1) {
          type.skip(g.wire);
          continue;
        }
        const tensor = new Reader(type.bytes());
        for (let h = tensor.next(); h; h = tensor.next()) {
          if (h.field === 1) v.elemType = tensor.varint();
          else if (h.field === 2) v.shape = readShape(tensor.bytes());
          else tensor.skip(h.wire);
        }
      }
    } else r.skip(f.wire);
  }
  return v;
}

function readGraph(bytes: Uint8Array): GraphProto {
  const r = new Reader(bytes);
  const g: GraphProto = {
    name: "",
    nodes: [],
    initializers: [],
    inputs: [],
    outputs: [],
    valueInfo: [],
  };
  for (let f = r.next(); f; f = r.next()) {
    switch (f.field) {
      case 1:
        g.nodes.push(readNode(r.bytes()));
        break;
      case 2:
        g.name = r.string();
        break;
      case 5:
        g.initializers.push(readTensor(r.bytes()));
        break;
      case 11:
        g.inputs.push(readValueInfo(r.bytes()));
        break;
      case 12:
        g.outputs.push(readValueInfo(r.bytes()));
        break;
      case 13:
        g.valueInfo.push(readValueInfo(r.bytes()));
        break;
      case 15:
        throw new ModelLoadError(
          "Cannot load model: sparse initializers are not supported",
        );
      default:
        r.skip(f.wire);
    }
  }
  return g;
}

/**
 * Decodes ONNX file bytes. Weight bytes stay views into `bytes`. Throws a
 * `ModelLoadError` for malformed files and for weights kept in external
 * files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A tiny torchvision ResNet-18 (random weights).
 * const model = decodeModel(await Deno.readFile("tests/fixtures/onnx/resnet18.onnx"));
 * assert.equal(model.graph.nodes[0]?.opType, "Conv");
 * assert.throws(() => decodeModel(new Uint8Array([0xff, 0xff])), { name: "ModelLoadError" });
 * ```
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const model: ModelProto = {
    irVersion: 0,
    opsetImport: [],
    producerName: "",
    producerVersion: "",
    graph: {
      name: "",
      nodes: [],
      initializers: [],
      inputs: [],
      outputs: [],
      valueInfo: [],
    },
  };
  let graph = false;
  try {
    const r = new Reader(bytes);
    for (let f = r.next(); f; f = r.next()) {
      switch (f.field) {
        case 1:
          model.irVersion = r.varint();
          break;
        case 2:
          model.producerName = r.string();
          break;
        case 3:
          model.producerVersion = r.string();
          break;
        case 7:
          model.graph = readGraph(r.bytes());
          graph = true;
          break;
        case 8: {
          const op = new Reader(r.bytes());
          const id: OperatorSetId = { domain: "", version: 0 };
          for (let g = op.next(); g; g = op.next()) {
            if (g.field === 1) id.domain = op.string();
            else if (g.field === 2) id.version = op.varint();
            else op.skip(g.wire);
          }
          model.opsetImport.push(id);
          break;
        }
        case 25:
          throw new ModelLoadError(
            "Cannot load model: model-local functions are not supported; " +
              "export without them (torch.onnx.export, or onnx.inliner)",
          );
        default:
          r.skip(f.wire);
      }
    }
  } catch (error) {
    if (error instanceof WireError) {
      throw new ModelLoadError(
        `Cannot load model: not a valid ONNX file (${error.message})`,
      );
    }
    throw error;
  }
  if (!graph || model.graph.nodes.length === 0) {
    throw new ModelLoadError("Cannot load model: the ONNX file has no graph");
  }
  return model;
}
