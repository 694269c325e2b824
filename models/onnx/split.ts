/**
 * Cuts a graph in two at a tensor (the boundary) and builds one model per
 * half: the lower model runs the input up to the boundary and every tensor
 * from below the boundary that the upper half still reads (residual skips);
 * the upper model runs from those to the logits, with, on request, the
 * gradient of one class logit with respect to the boundary.
 *
 * Feature maps cross the cut channels-last (`[N, H, W, C]`), as the engine
 * contract wants, whatever layout the graph uses inside (NCHW).
 *
 * @module
 */
import { buildBackward } from "./backward.ts";
import {
  Builder,
  constantValue,
  defaultOpset,
  floatValue,
  type Graph,
  modelOf,
  staticTensors,
} from "./ir.ts";
import { DataType, type ModelProto, type NodeProto } from "./proto.ts";
import { intAttr, intsAttr } from "./tensors.ts";

/** The boundary crossing the cut, channels-last. */
export const BOUNDARY = "lumen::boundary";
/** The upper model's class input (int64 `[1]`; negative: each item's top-1). */
export const CLASS_IN = "lumen::class";
/** The upper model's output of the class used per item (int64 `[N]`). */
export const CLASS_OUT = "lumen::top";
/** The upper model's gradient output, shaped like the boundary input. */
export const GRADIENT = "lumen::gradient";
/** The upper model's logits output. */
export const LOGITS = "lumen::logits";

/** Where a graph is cut. */
export interface SplitPlan {
  /** The boundary tensor inside the graph. */
  readonly boundary: string;
  /** Whether the boundary crosses the cut transposed to channels-last. */
  readonly transposed: boolean;
  /** Name of the boundary as the halves exchange it. */
  readonly exchanged: string;
  /** Tensors from below the boundary the upper half reads, in order. */
  readonly skips: readonly string[];
  /** Lower nodes (empty when the boundary is the input). */
  readonly lower: readonly NodeProto[];
  /** Upper nodes, static producers (`Constant`s) included. */
  readonly upper: readonly NodeProto[];
}

/**
 * Finds the two halves of `graph` for `boundary` (a tensor name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOnnxClassifier } from "./load.ts";
 * import { loadOrt } from "./session.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input).
 * const source = await readOnnxClassifier(await loadOrt(), "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const { graph } = source.graphFor(null);
 * const plan = planSplit(graph, "/layer4/layer4.1/relu_1/Relu_output_0");
 * assert.deepEqual(plan.skips, []); // at a ResNet's last stage
 * const inner = planSplit(graph, "/layer4/layer4.1/relu/Relu_output_0");
 * assert.equal(inner.skips.length, 1); // inside a block: its shortcut crosses the cut
 * assert.throws(() => planSplit(graph, "nope"), /no tensor "nope"/);
 * ```
 */
export function planSplit(graph: Graph, boundary: string): SplitPlan {
  const statics = staticTensors(graph);
  const producer = new Map<string, NodeProto>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  if (boundary !== graph.input && !producer.has(boundary)) {
    throw new Error(`Graph error: no tensor "${boundary}"`);
  }
  // Nodes downstream of the boundary that the logits need.
  const dependent = new Set([boundary]);
  const downstream = new Set<NodeProto>();
  for (const n of graph.nodes) {
    if (n.inputs.some((i) => dependent.has(i))) {
      downstream.add(n);
      for (const o of n.outputs) dependent.add(o);
    }
  }
  const needed = new Set([graph.logits]);
  const upperSet = new Set<NodeProto>();
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    if (downstream.has(n)) {
      upperSet.add(n);
      for (const i of n.inputs) needed.add(i);
    }
  }
  const produced = new Set(
    [...upperSet].flatMap((n) => n.outputs),
  );
  const skips: string[] = [];
  const staticNeeded = new Set<string>();
  const reads = [...upperSet].flatMap((n) => n.inputs);
  if (upperSet.size === 0) reads.push(graph.logits);
  for (const i of reads) {
    if (i === "" || i === boundary || produced.has(i)) continue;
    if (statics.has(i)) staticNeeded.add(i);
    else if (!skips.includes(i)) skips.push(i);
  }
  // Static producers (Constant, Identity of a weight) travel with the half.
  const closure = (wanted: Set<string>): Set<NodeProto> => {
    const out = new Set<NodeProto>();
    for (let k = graph.nodes.length - 1; k >= 0; k--) {
      const n = graph.nodes[k];
      if (!n.outputs.some((o) => wanted.has(o))) continue;
      out.add(n);
      for (const i of n.inputs) wanted.add(i);
    }
    return out;
  };
  const upperStatic = closure(staticNeeded);
  const lowerSet = boundary === graph.input
    ? new Set<NodeProto>()
    : closure(new Set([boundary, ...skips]));
  const transposed = boundary !== graph.input &&
    graph.shapes.get(boundary)?.length === 4;
  return {
    boundary,
    transposed,
    exchanged: transposed ? BOUNDARY : boundary,
    skips,
    lower: graph.nodes.filter((n) => lowerSet.has(n)),
    upper: graph.nodes.filter((n) => upperSet.has(n) || upperStatic.has(n)),
  };
}

function nhwc(shape: readonly number[] | undefined): number[] | undefined {
  return shape && [shape[0], shape[2], shape[3], shape[1]];
}

/**
 * The lower model: the graph input in, the boundary (channels-last) and the
 * skips out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOnnxClassifier } from "./load.ts";
 * import { loadOrt } from "./session.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input).
 * const source = await readOnnxClassifier(await loadOrt(), "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const { graph } = source.graphFor(null);
 * const plan = planSplit(graph, "/layer4/layer4.1/relu_1/Relu_output_0");
 * const lower = lowerModel(graph, plan); // encodeModel(lower): a session's bytes
 * assert.deepEqual(lower.graph.outputs.map((o) => [o.name, o.shape]), [[BOUNDARY, ["N", 2, 2, 64]]]);
 * ```
 */
export function lowerModel(graph: Graph, plan: SplitPlan): ModelProto {
  const nodes = [...plan.lower];
  if (plan.transposed) {
    nodes.push({
      name: BOUNDARY,
      opType: "Transpose",
      domain: "",
      inputs: [plan.boundary],
      outputs: [BOUNDARY],
      attributes: [intsAttr("perm", [0, 2, 3, 1])],
    });
  }
  const boundaryShape = graph.shapes.get(plan.boundary);
  return modelOf(graph, nodes, {
    inputs: [floatValue(graph.input, graph.shapes.get(graph.input))],
    outputs: [
      floatValue(
        plan.exchanged,
        plan.transposed ? nhwc(boundaryShape) : boundaryShape,
      ),
      ...plan.skips.map((s) => floatValue(s, graph.shapes.get(s))),
    ],
  });
}

/**
 * The upper model: the boundary (channels-last) and the skips in, the
 * logits out; with `gradients`, also an int64 class input (`[1]`, negative:
 * each item's top-1), the class used per item and d(class logit)/d(boundary),
 * channels-last.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOnnxClassifier } from "./load.ts";
 * import { loadOrt } from "./session.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input).
 * const source = await readOnnxClassifier(await loadOrt(), "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const { graph } = source.graphFor(null);
 * const plan = planSplit(graph, "/layer4/layer4.1/relu_1/Relu_output_0");
 * const upper = upperModel(graph, plan, { gradients: true }); // encodeModel(upper): a session's bytes
 * assert.deepEqual(upper.graph.inputs.map((i) => i.name), [BOUNDARY, CLASS_IN]);
 * assert.deepEqual(upper.graph.outputs.map((o) => o.name), [LOGITS, CLASS_OUT, GRADIENT]);
 * ```
 */
export function upperModel(
  graph: Graph,
  plan: SplitPlan,
  options: { gradients?: boolean } = {},
): ModelProto {
  const head: NodeProto[] = [];
  if (plan.transposed) {
    head.push({
      name: plan.boundary,
      opType: "Transpose",
      domain: "",
      inputs: [BOUNDARY],
      outputs: [plan.boundary],
      attributes: [intsAttr("perm", [0, 3, 1, 2])],
    });
  }
  const tail: NodeProto[] = [identity(graph.logits, LOGITS)];
  const shape = graph.shapes.get(plan.boundary);
  const exchangedShape = plan.transposed ? nhwc(shape) : shape;
  const inputs = [
    floatValue(plan.exchanged, exchangedShape),
    ...plan.skips.map((s) => floatValue(s, graph.shapes.get(s))),
  ];
  const logitsShape = graph.shapes.get(graph.logits);
  const outputs = [floatValue(LOGITS, logitsShape)];
  if (!options.gradients) {
    return modelOf(graph, [...head, ...plan.upper, ...tail], {
      inputs,
      outputs,
    });
  }
  // The class per item: the given one, or the top-1 when it is negative.
  const b = new Builder("lumen::upper");
  const top = b.node("ArgMax", [LOGITS], [
    intAttr("axis", 1),
    intAttr("keepdims", 0),
  ]);
  const given = b.node("Expand", [CLASS_IN, b.node("Shape", [top])]);
  const useTop = b.node("Less", [given, b.ints([0], [])]);
  b.nodes.push({
    name: CLASS_OUT,
    opType: "Where",
    domain: "",
    inputs: [useTop, top, given],
    outputs: [CLASS_OUT],
    attributes: [],
  });
  const seed = b.node("OneHot", [
    CLASS_OUT,
    b.ints([logitsShape?.[1] ?? 0], []),
    b.floats([0, 1]),
  ], [intAttr("axis", -1)]);
  const shapes = new Map(graph.shapes);
  if (exchangedShape) shapes.set(plan.exchanged, exchangedShape);
  const backward = buildBackward(
    { ...graph, shapes },
    [...head, ...plan.upper],
    {
      wrt: plan.exchanged,
      output: graph.logits,
      seed,
      constant: (name) => constantValue(graph, name),
    },
  );
  const opset = defaultOpset(graph.opsets);
  return modelOf(
    graph,
    [
      ...backward.forward,
      ...tail,
      ...b.nodes,
      ...backward.nodes,
      identity(backward.gradient, GRADIENT),
    ],
    {
      inputs: [
        ...inputs,
        { name: CLASS_IN, elemType: DataType.INT64, shape: [1] },
      ],
      outputs: [
        ...outputs,
        { name: CLASS_OUT, elemType: DataType.INT64, shape: ["N"] },
        floatValue(GRADIENT, exchangedShape),
      ],
      minOpset: backward.minOpset > opset ? backward.minOpset : undefined,
      extra: [...b.initializers, ...backward.initializers],
    },
  );
}

function identity(from: string, to: string): NodeProto {
  return {
    name: to,
    opType: "Identity",
    domain: "",
    inputs: [from],
    outputs: [to],
    attributes: [],
  };
}
