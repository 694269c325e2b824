/**
 * A backward-graph builder: ONNX Runtime's inference build has no autograd,
 * so the gradient of one output with respect to one tensor is written out as
 * ONNX nodes (`_grad_rules.ts` holds one rule per operator), appended to the
 * forward nodes and run by the same session.
 *
 * Only nodes between `wrt` and the output are differentiated; everything
 * else (weights, tensors from below such as residual skips) is a constant.
 *
 * @module
 */
import { Builder, type Graph } from "./ir.ts";
import type { NodeProto, TensorProto } from "./proto.ts";
import { type GradContext, RULES, UnsupportedOpError } from "./_grad_rules.ts";
import { getInt, intAttr, intsAttr } from "./tensors.ts";

export { UnsupportedOpError } from "./_grad_rules.ts";

/** Ops whose outputs carry no gradient (comparisons, shapes, indices). */
const NOT_DIFFERENTIABLE = new Set([
  "Shape",
  "Size",
  "ArgMax",
  "ArgMin",
  "Equal",
  "Greater",
  "GreaterOrEqual",
  "Less",
  "LessOrEqual",
  "Not",
  "And",
  "Or",
  "Xor",
  "NonZero",
  "ConstantOfShape",
  "OneHot",
  "Range",
  "Floor",
  "Ceil",
  "Round",
  "Sign",
  "IsNaN",
  "IsInf",
  "EyeLike",
]);

/** Float element types a `Cast` may keep differentiable. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

function differentiable(node: NodeProto): boolean {
  if (NOT_DIFFERENTIABLE.has(node.opType)) return false;
  if (node.opType === "Cast") {
    return FLOAT_TYPES.has(getInt(node, { name: "to", fallback: 1 }));
  }
  return true;
}

/** The backward nodes for one gradient. */
export interface Backward {
  /** The forward nodes to run (some gain outputs the backward reads). */
  forward: NodeProto[];
  /** The backward nodes, after the forward ones. */
  nodes: NodeProto[];
  initializers: TensorProto[];
  /** The tensor holding d(output)/d(wrt). */
  gradient: string;
  /** The lowest default opset the nodes need. */
  minOpset: number;
}

/** Options of {@linkcode buildBackward}. */
export interface BackwardOptions {
  /** The tensor to differentiate against. */
  wrt: string;
  /** The tensor differentiated (the logits). */
  output: string;
  /** d(loss)/d(output), e.g. a one-hot row per item. */
  seed: string;
  /** Static tensor values (initializers, `Constant` outputs). */
  constant: (name: string) => TensorProto | null;
}

/**
 * Builds the nodes computing d(`seed`·`output`)/d(`wrt`) through `nodes`
 * (the forward graph above `wrt`, in topological order). Throws
 * {@linkcode UnsupportedOpError} naming the first operator on the path that
 * has no rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { constantValue } from "./ir.ts";
 * import { readOnnxClassifier } from "./load.ts";
 * import { loadOrt } from "./session.ts";
 * import { planSplit } from "./split.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input).
 * const source = await readOnnxClassifier(await loadOrt(), "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const { graph } = source.graphFor(null);
 * const wrt = "/layer4/layer4.1/relu_1/Relu_output_0";
 * const upperNodes = planSplit(graph, wrt).upper; // upperModel does this, with a one-hot seed
 * const constant = (name: string) => constantValue(graph, name);
 * const bw = buildBackward(graph, upperNodes, { wrt, output: graph.logits, seed: "seed", constant });
 * const nodes = [...bw.forward, ...bw.nodes];
 * assert.ok(nodes.some((n) => n.outputs.includes(bw.gradient)));
 * // An operator without a rule on the path is named:
 * const topK = { name: "top", opType: "TopK", domain: "", inputs: [wrt, "k"], outputs: ["v", "i"], attributes: [] };
 * assert.throws(
 *   () => buildBackward(graph, [topK], { wrt, output: "v", seed: "seed", constant }),
 *   { name: "UnsupportedOpError", message: /does not support op TopK/ },
 * );
 * ```
 */
export function buildBackward(
  graph: Pick<Graph, "shapes" | "opsets" | "initializers">,
  nodes: readonly NodeProto[],
  options: BackwardOptions,
): Backward {
  const { wrt, output, seed } = options;
  const live = new Set([wrt]);
  for (const node of nodes) {
    if (differentiable(node) && node.inputs.some((i) => live.has(i))) {
      for (const o of node.outputs) live.add(o);
    }
  }
  const opset =
    graph.opsets.find((o) => o.domain === "" || o.domain === "ai.onnx")
      ?.version ?? 1;
  let minOpset = 0;
  // MaxPool's gradient reads its argmax indices: ask the forward for them.
  const forward = nodes.map((node) => {
    if (
      node.opType !== "MaxPool" || node.outputs.length > 1 ||
      !live.has(node.inputs[0])
    ) return node;
    if (opset < 13) {
      throw new UnsupportedOpError(
        "MaxPool",
        node.name,
        " below opset 13 (export with opset_version=13 or later)",
      );
    }
    minOpset = 16; // ScatterElements with reduction="add".
    return {
      ...node,
      outputs: [node.outputs[0], `${node.outputs[0]}::indices`],
    };
  });

  const b = new Builder("lumen::grad");
  const shapes = new Map<string, string>();
  const ctx: GradContext = {
    b,
    opset,
    shape(name) {
      const s = graph.shapes.get(name) ?? graph.initializers.get(name)?.dims ??
        options.constant(name)?.dims;
      if (!s) throw new Error(`Graph error: no shape known for "${name}"`);
      return s;
    },
    constant: options.constant,
    shapeOf(name) {
      let s = shapes.get(name);
      if (!s) {
        s = b.node("Shape", [name]);
        shapes.set(name, s);
      }
      return s;
    },
    reduceSum(x, axes) {
      return opset >= 13
        ? b.node("ReduceSum", [x, b.ints(axes)], [intAttr("keepdims", 1)])
        : b.node("ReduceSum", [x], [
          intsAttr("axes", axes),
          intAttr("keepdims", 1),
        ]);
    },
  };

  const grads = new Map<string, string[]>();
  const sum = (name: string): string | null => {
    const parts = grads.get(name);
    if (!parts?.length) return null;
    return parts.length === 1 ? parts[0] : b.node("Sum", parts);
  };
  grads.set(output, [seed]);
  if (live.has(output)) {
    for (let k = forward.length - 1; k >= 0; k--) {
      const node = forward[k];
      if (!differentiable(node)) continue;
      const wants = node.inputs.map((i) => i !== "" && live.has(i));
      if (!wants.some((w) => w)) continue;
      const dys = node.outputs.map(sum);
      if (dys.every((d) => d === null)) continue;
      const rule = RULES[node.opType];
      if (!rule || node.domain) {
        throw new UnsupportedOpError(node.opType, node.name);
      }
      if (dys[0] === null) {
        throw new UnsupportedOpError(
          node.opType,
          node.name,
          " feeding its second output onward",
        );
      }
      const result = rule(node, dys, wants, ctx);
      node.inputs.forEach((input, i) => {
        const g = result[i];
        if (!wants[i] || !g) return;
        const list = grads.get(input) ?? [];
        list.push(g);
        grads.set(input, list);
      });
    }
  }
  const gradient = sum(wrt) ??
    b.node("ConstantOfShape", [b.node("Shape", [wrt])]);
  return {
    forward,
    nodes: b.nodes,
    initializers: b.initializers,
    gradient,
    minOpset,
  };
}
