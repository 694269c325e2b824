/**
 * Building and reading ONNX tensors and attributes as plain values.
 *
 * @module
 */
import {
  type AttributeProto,
  AttributeType,
  DataType,
  type NodeProto,
  type TensorProto,
} from "./proto.ts";

/**
 * Elements of a tensor with these dims.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(elementCount([2, 3, 4]), 24);
 * assert.equal(elementCount([]), 1); // a scalar
 * ```
 */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/**
 * A float tensor over `values.data` (not copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const data = new Float32Array([1, 2, 3]);
 * const t = floatTensor("scale", { dims: [3], data });
 * assert.equal(t.rawData?.buffer, data.buffer); // not copied
 * assert.deepEqual(readFloats(t), data);
 * ```
 */
export function floatTensor(
  name: string,
  values: {
    /** The tensor's shape. */
    dims: readonly number[];
    /** Its values, row-major: `elementCount(dims)` of them. */
    data: Float32Array;
  },
): TensorProto {
  const { dims, data } = values;
  return {
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * An int64 tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const t = int64Tensor("axes", { dims: [2], values: [2, 3] });
 * assert.equal(t.rawData?.byteLength, 16); // 8 bytes each
 * assert.deepEqual(readInts(t), [2, 3]);
 * ```
 */
export function int64Tensor(
  name: string,
  tensor: {
    /** The tensor's shape. */
    dims: readonly number[];
    /** Its values, row-major (fractions truncated). */
    values: readonly number[];
  },
): TensorProto {
  const { dims, values } = tensor;
  const data = new BigInt64Array(values.map((v) => BigInt(Math.trunc(v))));
  return {
    name,
    dims: [...dims],
    dataType: DataType.INT64,
    rawData: new Uint8Array(data.buffer),
  };
}

function rawView(raw: Uint8Array, bytes: number): DataView {
  return new DataView(raw.buffer, raw.byteOffset, bytes);
}

/**
 * A tensor's values as float32 (float, float16, double and integer types).
 * Aligned float raw data is returned as a view, not a copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(readFloats(floatTensor("x", { dims: [2], data: new Float32Array([1, 2]) })), new Float32Array([1, 2]));
 * assert.deepEqual(readFloats(int64Tensor("n", { dims: [1], values: [7] })), new Float32Array([7]));
 * ```
 */
export function readFloats(t: TensorProto): Float32Array {
  inMemory(t);
  const n = elementCount(t.dims);
  const raw = t.rawData;
  if (t.dataType === DataType.FLOAT) {
    if (!raw) return new Float32Array(t.floatData ?? []);
    if (raw.byteOffset % 4 === 0) {
      return new Float32Array(raw.buffer, raw.byteOffset, n);
    }
    return new Float32Array(raw.slice(0, n * 4).buffer);
  }
  if (t.dataType === DataType.DOUBLE && !raw) {
    return new Float32Array(t.doubleData ?? []);
  }
  if (t.dataType === DataType.FLOAT16 && raw) {
    const view = rawView(raw, n * 2);
    return Float32Array.from(
      { length: n },
      (_, i) => half(view.getUint16(i * 2, true)),
    );
  }
  if (t.dataType === DataType.DOUBLE && raw) {
    const view = rawView(raw, n * 8);
    return Float32Array.from(
      { length: n },
      (_, i) => view.getFloat64(i * 8, true),
    );
  }
  return Float32Array.from(readInts(t));
}

/** Values in a weights file are ONNX Runtime's to read, not the graph code's. */
function inMemory(t: TensorProto): void {
  if (t.external) {
    throw new Error(`Graph error: the values of ${t.name} are in a file`);
  }
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * A tensor's values as numbers (int64, int32, int8, uint8, bool; floats are
 * truncated). int64 values beyond 2^53 lose precision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(readInts(int64Tensor("axes", { dims: [2], values: [2, 3] })), [2, 3]);
 * ```
 */
export function readInts(t: TensorProto): number[] {
  inMemory(t);
  const n = elementCount(t.dims);
  const raw = t.rawData;
  if (!raw) {
    if (t.int64Data) return t.int64Data;
    if (t.int32Data) return t.int32Data;
    return Array.from(readFloats(t), Math.trunc);
  }
  switch (t.dataType) {
    case DataType.INT64: {
      const view = rawView(raw, n * 8);
      return Array.from(
        { length: n },
        (_, i) => Number(view.getBigInt64(i * 8, true)),
      );
    }
    case DataType.INT32: {
      const view = rawView(raw, n * 4);
      return Array.from({ length: n }, (_, i) => view.getInt32(i * 4, true));
    }
    case DataType.INT8:
      return Array.from(new Int8Array(raw.buffer, raw.byteOffset, n));
    case DataType.UINT8:
    case DataType.BOOL:
      return Array.from(raw.subarray(0, n));
    default:
      return Array.from(readFloats(t), Math.trunc);
  }
}

/**
 * Bytes a tensor's values take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(tensorBytes(floatTensor("w", { dims: [2, 2], data: new Float32Array(4) })), 16);
 * ```
 */
export function tensorBytes(t: TensorProto): number {
  if (t.rawData) return t.rawData.length;
  if (t.external) return t.external.length;
  const n = elementCount(t.dims);
  return n *
    (t.dataType === DataType.INT64 || t.dataType === DataType.DOUBLE ? 8 : 4);
}

// ---- attributes ----

/**
 * An int attribute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttributeType } from "./proto.ts";
 * assert.deepEqual(intAttr("axis", 1), { name: "axis", type: AttributeType.INT, i: 1 });
 * ```
 */
export function intAttr(name: string, i: number): AttributeProto {
  return { name, type: AttributeType.INT, i };
}

/**
 * An ints attribute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttributeType } from "./proto.ts";
 * assert.deepEqual(intsAttr("perm", [0, 2, 3, 1]), {
 *   name: "perm", type: AttributeType.INTS, ints: [0, 2, 3, 1],
 * });
 * ```
 */
export function intsAttr(
  name: string,
  ints: readonly number[],
): AttributeProto {
  return { name, type: AttributeType.INTS, ints: [...ints] };
}

/**
 * A float attribute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttributeType } from "./proto.ts";
 * assert.deepEqual(floatAttr("alpha", 0.1), { name: "alpha", type: AttributeType.FLOAT, f: 0.1 });
 * ```
 */
export function floatAttr(name: string, f: number): AttributeProto {
  return { name, type: AttributeType.FLOAT, f };
}

/**
 * A string attribute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const node = {
 *   name: "pad", opType: "Pad", domain: "", inputs: ["x", "pads"], outputs: ["y"],
 *   attributes: [stringAttr("mode", "constant")],
 * };
 * assert.equal(getString(node, { name: "mode", fallback: "reflect" }), "constant"); // stored as UTF-8 bytes
 * ```
 */
export function stringAttr(name: string, s: string): AttributeProto {
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(s) };
}

/**
 * A tensor attribute (`Constant`'s `value`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const value = tensorAttr("value", int64Tensor("", { dims: [1], values: [4] })); // a Constant's value
 * assert.deepEqual(readInts(value.t!), [4]);
 * ```
 */
export function tensorAttr(name: string, t: TensorProto): AttributeProto {
  return { name, type: AttributeType.TENSOR, t };
}

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attributes.find((a) => a.name === name);
}

/** An attribute to read, and the value that stands for it when absent. */
export interface AttributeRead<T> {
  /** The attribute's name, e.g. `"strides"`. */
  name: string;
  /** The value when the node has no such attribute (ONNX's default). */
  fallback: T;
}

/**
 * An int attribute of `node`, or `attribute.fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const node = {
 *   name: "conv", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["y"],
 *   attributes: [intAttr("group", 32)],
 * };
 * assert.equal(getInt(node, { name: "group", fallback: 1 }), 32);
 * assert.equal(getInt(node, { name: "axis", fallback: 1 }), 1); // absent: the fallback
 * ```
 */
export function getInt(
  node: NodeProto,
  attribute: AttributeRead<number>,
): number {
  return find(node, attribute.name)?.i ?? attribute.fallback;
}

/**
 * An ints attribute of `node` (a copy), or a copy of `attribute.fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const node = {
 *   name: "conv", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["y"],
 *   attributes: [intsAttr("strides", [2, 2])],
 * };
 * assert.deepEqual(getInts(node, { name: "strides", fallback: [1, 1] }), [2, 2]);
 * assert.deepEqual(getInts(node, { name: "dilations", fallback: [1, 1] }), [1, 1]);
 * assert.equal(getInts(node, { name: "pads", fallback: null }), null);
 * ```
 */
export function getInts(
  node: NodeProto,
  attribute: AttributeRead<readonly number[] | null>,
): number[] | null {
  const { name, fallback } = attribute;
  const a = find(node, name);
  return a?.ints ? [...a.ints] : fallback ? [...fallback] : null;
}

/**
 * A float attribute of `node`, or `attribute.fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const node = {
 *   name: "bn", opType: "BatchNormalization", domain: "", inputs: ["x"], outputs: ["y"],
 *   attributes: [floatAttr("momentum", 0.5)],
 * };
 * assert.equal(getFloat(node, { name: "momentum", fallback: 0.9 }), 0.5);
 * assert.equal(getFloat(node, { name: "epsilon", fallback: 1e-5 }), 1e-5);
 * ```
 */
export function getFloat(
  node: NodeProto,
  attribute: AttributeRead<number>,
): number {
  return find(node, attribute.name)?.f ?? attribute.fallback;
}

/**
 * A string attribute of `node`, or `attribute.fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const node = {
 *   name: "conv", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["y"],
 *   attributes: [stringAttr("auto_pad", "SAME_UPPER")],
 * };
 * assert.equal(getString(node, { name: "auto_pad", fallback: "NOTSET" }), "SAME_UPPER");
 * ```
 */
export function getString(
  node: NodeProto,
  attribute: AttributeRead<string>,
): string {
  const s = find(node, attribute.name)?.s;
  return s ? new TextDecoder().decode(s) : attribute.fallback;
}

/**
 * A tensor attribute of `node`, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const node = {
 *   name: "four", opType: "Constant", domain: "", inputs: [], outputs: ["four"],
 *   attributes: [tensorAttr("value", int64Tensor("", { dims: [1], values: [4] }))],
 * };
 * assert.deepEqual(readInts(getTensor(node, "value")!), [4]);
 * assert.equal(getTensor(node, "sparse_value"), undefined);
 * ```
 */
export function getTensor(
  node: NodeProto,
  name: string,
): TensorProto | undefined {
  return find(node, name)?.t;
}
