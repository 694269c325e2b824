/**
 * The working form of a classifier graph inside the ONNX engine, whatever
 * it came from (a TF.js export or a user's `.onnx` file), and a builder for
 * the nodes Lumen adds to it.
 *
 * @module
 */
import type {
  AttributeProto,
  ModelProto,
  NodeProto,
  OperatorSetId,
  TensorProto,
  ValueInfoProto,
} from "./proto.ts";
import { DataType } from "./proto.ts";
import {
  elementCount,
  floatTensor,
  getTensor,
  int64Tensor,
  tensorAttr,
} from "./tensors.ts";

/** A classifier graph with a channels-last input and pre-softmax logits. */
export interface Graph {
  /** Nodes in topological order. */
  readonly nodes: readonly NodeProto[];
  readonly initializers: ReadonlyMap<string, TensorProto>;
  /** The float input, `[N, H, W, 3]` (channels-last). */
  readonly input: string;
  /** The pre-softmax logits, `[N, classes]`. */
  readonly logits: string;
  /** Shapes of tensors, batch axis included (-1 where it is symbolic). */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly opsets: readonly OperatorSetId[];
  readonly irVersion: number;
  /** The batch size the graph is fixed to, or null when it is symbolic. */
  readonly batch: number | null;
}

/**
 * The version of the default ("" / ai.onnx) operator set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(defaultOpset([{ domain: "", version: 17 }]), 17);
 * assert.equal(defaultOpset([{ domain: "com.microsoft", version: 1 }]), 1); // none given
 * ```
 */
export function defaultOpset(opsets: readonly OperatorSetId[]): number {
  return opsets.find((o) => o.domain === "" || o.domain === "ai.onnx")
    ?.version ?? 1;
}

/**
 * The value of a tensor known without running the graph: an initializer or
 * a `Constant` node's output, else null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intsAttr, readInts } from "./tensors.ts";
 * // A Pad node's pads, given by a Constant node:
 * const graph = {
 *   initializers: new Map(),
 *   nodes: [
 *     { name: "c", opType: "Constant", domain: "", inputs: [], outputs: ["pads"], attributes: [intsAttr("value_ints", [0, 0, 1, 1, 0, 0, 1, 1])] },
 *     { name: "pad", opType: "Pad", domain: "", inputs: ["x", "pads"], outputs: ["y"], attributes: [] },
 *   ],
 * };
 * const pads = constantValue(graph, graph.nodes[1]!.inputs[1]!);
 * assert.deepEqual(readInts(pads!), [0, 0, 1, 1, 0, 0, 1, 1]);
 * assert.equal(constantValue(graph, "x"), null); // the input: not known
 * ```
 */
export function constantValue(
  graph: Pick<Graph, "nodes" | "initializers">,
  name: string,
): TensorProto | null {
  const init = graph.initializers.get(name);
  if (init) return init;
  const node = graph.nodes.find((n) =>
    n.opType === "Constant" && n.outputs[0] === name
  );
  if (!node) return null;
  const value = getTensor(node, "value");
  if (value) return value;
  const a = node.attributes[0];
  if (a?.ints) {
    return int64Tensor(name, { dims: [a.ints.length], values: a.ints });
  }
  if (a?.i !== undefined) return int64Tensor(name, { dims: [], values: [a.i] });
  if (a?.floats) {
    return floatTensor(name, {
      dims: [a.floats.length],
      data: new Float32Array(a.floats),
    });
  }
  if (a?.f !== undefined) {
    return floatTensor(name, { dims: [], data: new Float32Array([a.f]) });
  }
  return null;
}

/**
 * Names of tensors whose values do not depend on the graph input:
 * initializers and outputs of nodes fed only by such tensors (`Constant`s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOnnxClassifier } from "./load.ts";
 * import { loadOrt } from "./session.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input).
 * const source = await readOnnxClassifier(await loadOrt(), "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const { graph } = source.graphFor(null);
 * assert.equal(staticTensors(graph).has("fc.weight"), true);
 * assert.equal(staticTensors(graph).has(graph.logits), false);
 * ```
 */
export function staticTensors(
  graph: Pick<Graph, "nodes" | "initializers">,
): Set<string> {
  const known = new Set(graph.initializers.keys());
  for (const node of graph.nodes) {
    if (node.inputs.every((i) => i === "" || known.has(i))) {
      for (const o of node.outputs) known.add(o);
    }
  }
  return known;
}

/** Creates nodes and constants with names that cannot clash with a model's. */
export class Builder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  #count = 0;
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** A fresh tensor name. */
  name(hint: string): string {
    return `${this.#prefix}/${hint}_${this.#count++}`;
  }

  /** Adds a node and returns its outputs' names (`outputs` of them). */
  nodeN(
    opType: string,
    inputs: readonly string[],
    attributes: AttributeProto[] = [],
    outputs = 1,
  ): string[] {
    const names = Array.from({ length: outputs }, () => this.name(opType));
    this.nodes.push({
      name: names[0],
      opType,
      domain: "",
      inputs: [...inputs],
      outputs: names,
      attributes,
    });
    return names;
  }

  /** Adds a one-output node and returns its output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: AttributeProto[] = [],
  ): string {
    return this.nodeN(opType, inputs, attributes)[0];
  }

  /** An int64 constant. */
  ints(values: readonly number[], dims: readonly number[] = [values.length]) {
    const name = this.name("const");
    this.initializers.push(int64Tensor(name, { dims, values }));
    return name;
  }

  /** A float constant. */
  floats(values: readonly number[], dims: readonly number[] = [values.length]) {
    const name = this.name("const");
    this.initializers.push(
      floatTensor(name, { dims, data: new Float32Array(values) }),
    );
    return name;
  }

  /** A `Constant` node (kept inside the graph, so folded by the runtime). */
  constantNode(t: TensorProto): string {
    return this.node("Constant", [], [tensorAttr("value", t)]);
  }
}

/**
 * A graph input or output of float type with a batch axis `N` when symbolic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataType } from "./proto.ts";
 * assert.deepEqual(floatValue("x", [-1, 3, 224, 224]), {
 *   name: "x", elemType: DataType.FLOAT, shape: ["N", 3, 224, 224],
 * });
 * ```
 */
export function floatValue(
  name: string,
  shape: readonly number[] | undefined,
  options: {
    /** The ONNX element type; @default DataType.FLOAT */
    elemType?: number;
  } = {},
): ValueInfoProto {
  const elemType = options.elemType ?? DataType.FLOAT;
  return {
    name,
    elemType,
    shape: shape ? shape.map((d) => (d < 0 ? "N" : d)) : null,
  };
}

/**
 * Bytes of one batch item of a tensor with this full shape (batch first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(itemBytes([-1, 64, 56, 56]), 64 * 56 * 56 * 4); // 802816
 * ```
 */
export function itemBytes(shape: readonly number[] | undefined): number {
  if (!shape) return 0;
  return elementCount(shape.slice(1).map((d) => Math.max(1, d))) * 4;
}

/** Options of {@linkcode modelOf}. */
export interface ModelOptions {
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  /** Raise the default opset to at least this version. */
  minOpset?: number | undefined;
  /** Initializers to add besides `graph`'s (the nodes' own constants); @default [] */
  extra?: readonly TensorProto[] | undefined;
}

/**
 * Wraps nodes as a model of `graph`'s operator sets: only the initializers
 * the nodes read are included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOnnxClassifier } from "./load.ts";
 * import { loadOrt } from "./session.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input).
 * const source = await readOnnxClassifier(await loadOrt(), "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const { graph } = source.graphFor(null);
 * // Its classifier alone: the fc node (Gemm) over pooled features.
 * const fc = graph.nodes.find((n) => n.opType === "Gemm")!;
 * const model = modelOf(graph, [fc], {
 *   inputs: [floatValue(fc.inputs[0]!, [-1, 64])],
 *   outputs: [floatValue(fc.outputs[0]!, [-1, 10])],
 * });
 * assert.deepEqual(model.graph.initializers.map((t) => t.name).sort(), ["fc.bias", "fc.weight"]); // only what it reads
 * ```
 */
export function modelOf(
  graph: Graph,
  nodes: readonly NodeProto[],
  options: ModelOptions,
): ModelProto {
  const extra = options.extra ?? [];
  const used = new Set<string>();
  const visit = (ns: readonly NodeProto[]) => {
    for (const n of ns) {
      for (const i of n.inputs) used.add(i);
      for (const a of n.attributes) {
        for (const g of [a.g, ...(a.graphs ?? [])]) {
          if (g) visit(g.nodes);
        }
      }
    }
  };
  visit(nodes);
  const initializers = [...graph.initializers.values()].filter((t) =>
    used.has(t.name)
  );
  const min = options.minOpset ?? 0;
  const opsets = graph.opsets.map((o) =>
    (o.domain === "" || o.domain === "ai.onnx") && o.version < min
      ? { ...o, version: min }
      : o
  );
  return {
    // Opset 16+ needs IR version 8.
    irVersion: Math.max(graph.irVersion, 8),
    opsetImport: opsets,
    producerName: "lumen",
    producerVersion: "1",
    graph: {
      name: "lumen",
      nodes: [...nodes],
      initializers: [...initializers, ...extra],
      inputs: options.inputs,
      outputs: options.outputs,
      valueInfo: [],
    },
  };
}
