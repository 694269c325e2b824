/**
 * The ONNX messages Lumen reads and writes (`onnx.proto`, IR version 8):
 * models, graphs, nodes, attributes, tensors and value infos, as plain
 * objects, with an encoder and a decoder of their own. Weight bytes are
 * views into the file, never copied while decoding.
 *
 * @module
 */
import { Writer } from "./_wire.ts";

/** `TensorProto.DataType` values Lumen handles. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** `AttributeProto.AttributeType`. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** A tensor: dims and values, in one of the storage fields. */
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian values (the usual storage). */
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  /**
   * Where the values are kept outside the model bytes (`data_location =
   * EXTERNAL`): a file name ONNX Runtime resolves, for Lumen an in-memory
   * file given with the session options. Set instead of `rawData`.
   */
  external?: ExternalData;
}

/** A tensor's values in an external file: `length` bytes at `offset`. */
export interface ExternalData {
  location: string;
  offset: number;
  length: number;
}

/** A node attribute; `type` says which field holds the value. */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
}

/** One operator application. */
export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  /** Input tensor names; "" marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: AttributeProto[];
}

/** A dimension: a size, a symbolic name, or unknown (null). */
export type Dim = number | string | null;

/** A graph input, output or intermediate value with its tensor type. */
export interface ValueInfoProto {
  name: string;
  /** Element type (`DataType`), 0 when the value is not a tensor. */
  elemType: number;
  /** null when the shape is not given. */
  shape: Dim[] | null;
}

/** A computation graph. */
export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}

/** An operator set a model uses. */
export interface OperatorSetId {
  domain: string;
  version: number;
}

/** A whole model file. */
export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetId[];
  producerName: string;
  producerVersion: string;
  graph: GraphProto;
}

// ---- encoding ----

function writeTensor(t: TensorProto): Writer {
  const w = new Writer();
  if (t.dims.length) w.packedVarints(1, t.dims);
  w.int(2, t.dataType);
  if (t.floatData?.length) w.packedFloats(4, t.floatData);
  if (t.int32Data?.length) w.packedVarints(5, t.int32Data);
  if (t.int64Data?.length) w.packedVarints(7, t.int64Data);
  if (t.name) w.string(8, t.name);
  if (t.rawData) w.bytes(9, t.rawData);
  if (t.doubleData?.length) {
    w.bytes(10, new Uint8Array(new Float64Array(t.doubleData).buffer));
  }
  if (t.external) {
    const { location, offset, length } = t.external;
    for (
      const [key, value] of [
        ["location", location],
        ["offset", String(offset)],
        ["length", String(length)],
      ]
    ) {
      const entry = new Writer();
      entry.string(1, key);
      entry.string(2, value);
      w.message(13, entry);
    }
    w.int(14, 1); // DataLocation.EXTERNAL
  }
  return w;
}

function writeAttribute(a: AttributeProto): Writer {
  const w = new Writer();
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.bytes(4, a.s);
  if (a.t) w.message(5, writeTensor(a.t));
  if (a.g) w.message(6, writeGraph(a.g));
  if (a.floats?.length) w.packedFloats(7, a.floats);
  if (a.ints?.length) w.packedVarints(8, a.ints);
  for (const s of a.strings ?? []) w.bytes(9, s);
  for (const t of a.tensors ?? []) w.message(10, writeTensor(t));
  for (const g of a.graphs ?? []) w.message(11, writeGraph(g));
  w.int(20, a.type);
  return w;
}

function writeNode(n: NodeProto): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.message(5, writeAttribute(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function writeValueInfo(v: ValueInfoProto): Writer {
  const w = new Writer();
  w.string(1, v.name);
  if (v.elemType) {
    const tensor = new Writer();
    tensor.int(1, v.elemType);
    if (v.shape) {
      const shape = new Writer();
      for (const d of v.shape) {
        const dim = new Writer();
        if (typeof d === "number") dim.int(1, d);
        else if (typeof d === "string") dim.string(2, d);
        shape.message(1, dim);
      }
      tensor.message(2, shape);
    }
    const type = new Writer();
    type.message(1, tensor);
    w.message(2, type);
  }
  return w;
}

function writeGraph(g: GraphProto): Writer {
  const w = new Writer();
  for (const n of g.nodes) w.message(1, writeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, writeTensor(t));
  for (const v of g.inputs) w.message(11, writeValueInfo(v));
  for (const v of g.outputs) w.message(12, writeValueInfo(v));
  for (const v of g.valueInfo) w.message(13, writeValueInfo(v));
  return w;
}

/**
 * Encodes a model as ONNX file bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeModel } from "./_decode.ts";
 * const model = decodeModel(await Deno.readFile("tests/fixtures/onnx/resnet18.onnx"));
 * const bytes = encodeModel(model); // what ort.InferenceSession.create(bytes) takes
 * assert.equal(decodeModel(bytes).graph.nodes.length, model.graph.nodes.length);
 * ```
 */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new Writer();
  w.int(1, model.irVersion);
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  w.message(7, writeGraph(model.graph));
  for (const o of model.opsetImport) {
    const op = new Writer();
    if (o.domain) op.string(1, o.domain);
    op.int(2, o.version);
    w.message(8, op);
  }
  return w.finish();
}

export { decodeModel } from "./_decode.ts";
