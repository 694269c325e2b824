/**
 * Runs a compiled graph: one forward pass that yields the logits and the
 * activation tensor at a chosen layer and, on request, the gradient of one
 * class logit with respect to that activation, all in the same pass.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CompiledGraph, GraphNode } from "./graph.ts";

/** Tensors produced by {@linkcode executeGraph}; the caller disposes them. */
export interface ExecutionResult {
  logits: tf.Tensor2D;
  /** The chosen class (given, or the top-1 picked on the device). */
  classIndex: tf.Tensor1D;
  activations: tf.Tensor | null;
  gradients: tf.Tensor | null;
}

/** Options of {@linkcode executeGraph}. */
export interface ExecuteOptions {
  /** Layer whose output to return; it must be a node name of `graph`. */
  boundary?: string | null | undefined;
  /** Also return d(logit of the class)/d(boundary activations). */
  gradients?: boolean | undefined;
  /** Class to differentiate; @default the top-1 class */
  classIndex?: number | undefined;
  /**
   * Activations to continue from at the boundary instead of the computed ones
   * (any batch size; skip tensors from below broadcast over it), for methods
   * that perturb them. The caller keeps ownership.
   */
  replace?: tf.Tensor | undefined;
}

/**
 * Evaluates `nodes` in order, releasing each intermediate as soon as its last
 * consumer has run (unless it is in `keep`).
 */
function evaluate(
  nodes: readonly GraphNode[],
  values: Map<string, tf.Tensor>,
  keep: ReadonlySet<string>,
): void {
  const remaining = new Map<string, number>();
  for (const node of nodes) {
    for (const input of node.inputs) {
      remaining.set(input, (remaining.get(input) ?? 0) + 1);
    }
  }
  for (const node of nodes) {
    const inputs = node.inputs.map((name) => {
      const value = values.get(name);
      if (!value) throw new Error(`Graph error: "${name}" was not computed`);
      return value;
    });
    values.set(node.name, node.run(inputs));
    for (const name of node.inputs) {
      const left = remaining.get(name)! - 1;
      remaining.set(name, left);
      if (left === 0 && !keep.has(name)) {
        const value = values.get(name)!;
        values.delete(name);
        // An identity node hands on its input tensor: never free a live one.
        if (![...values.values()].includes(value)) value.dispose();
      }
    }
  }
}

/**
 * The part of a pass below (and including) the boundary: the boundary
 * activations plus every lower tensor the upper part still reads (residual
 * skips). Owns its tensors until {@linkcode LowerState.dispose}.
 */
export interface LowerState {
  readonly boundary: string | null;
  readonly activations: tf.Tensor;
  readonly values: ReadonlyMap<string, tf.Tensor>;
  /** Bytes held on the device, for cache accounting. */
  readonly bytes: number;
  dispose(): void;
}

function splitGraph(graph: CompiledGraph, boundary: string | null) {
  const split = boundary === null
    ? graph.nodes.length - 1
    : boundary === graph.input
    ? -1
    : graph.nodes.findIndex((n) => n.name === boundary);
  if (split < 0 && boundary !== graph.input) {
    throw new Error(`Graph error: no node "${boundary}"`);
  }
  const lower = graph.nodes.slice(0, split + 1);
  const upper = graph.nodes.slice(split + 1);
  const upperNames = new Set(upper.map((n) => n.name));
  const needed = new Set(
    upper.flatMap((n) => n.inputs).filter((name) => !upperNames.has(name)),
  );
  const last = boundary ?? graph.logits;
  needed.add(last);
  return { lower, upper, needed, last };
}

/**
 * Runs the network from `input` up to `options.boundary` (the whole network
 * when null), keeping what the rest needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { compileGraph, describeModel } from "./graph.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "./backend.ts";
 * await selectBackend("cpu");
 * // A tiny Keras classifier (random weights): conv, batch norm, ReLU, pooling, dense.
 * const input = tfl.input({ shape: [8, 8, 3], name: "input_1" });
 * const layers = [
 *   tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "conv1" }),
 *   tfl.layers.batchNormalization({ name: "bn_conv1" }),
 *   tfl.layers.activation({ activation: "relu", name: "activation" }),
 *   tfl.layers.globalAveragePooling2d({ name: "avg_pool" }),
 *   tfl.layers.dense({ units: 3, activation: "softmax", name: "fc1000" }),
 * ];
 * const output = layers.reduce((x, layer) => layer.apply(x) as tfl.SymbolicTensor, input);
 * const model = tfl.model({ inputs: input, outputs: output });
 * const graph = compileGraph(describeModel(model), { boundary: "activation" });
 * const x = tf.ones([1, 8, 8, 3]) as tf.Tensor4D;
 * const state = runLower(graph, x, { boundary: "activation" }); // ResNet-50: "activation_48"
 * const result = runUpper(graph, state, { gradients: true });
 * state.dispose();
 * assert.deepEqual(result.gradients?.shape, [1, 8, 8, 4]); // d(top logit)/d(activation)
 * tf.dispose([x, result.logits, result.classIndex, result.gradients!]);
 * model.dispose();
 * ```
 */
export function runLower(
  graph: CompiledGraph,
  input: tf.Tensor4D,
  options: Pick<ExecuteOptions, "boundary"> = {},
): LowerState {
  const boundary = options.boundary ?? null;
  const { lower, needed, last } = splitGraph(graph, boundary);
  const names = [...needed];
  const kept = tf.tidy(() => {
    const values = new Map<string, tf.Tensor>([[graph.input, input]]);
    evaluate(lower, values, new Set([...needed, graph.input]));
    // The input belongs to the caller: hand back a copy when it is kept.
    return names.map((n) =>
      n === graph.input ? tf.clone(input) : values.get(n)!
    );
  });
  const values = new Map(names.map((n, i) => [n, kept[i]]));
  return {
    boundary,
    activations: values.get(last)!,
    values,
    bytes: kept.reduce((sum, t) => sum + t.size * 4, 0),
    dispose: () => tf.dispose(kept),
  };
}

/**
 * Continues a pass from a {@linkcode LowerState}: the layers above the
 * boundary, under `tf.grad` when gradients are asked for, so a gradient
 * never backpropagates below the boundary. Lower tensors (residual skips) are
 * constants for the gradient: they do not depend on the boundary activations.
 * The state is not consumed. Everything runs in one `tf.tidy`; only the
 * returned tensors survive (the returned `activations` is the state's or
 * `replace`, still owned by them).
 */
export function runUpper(
  graph: CompiledGraph,
  state: LowerState,
  options: Omit<ExecuteOptions, "boundary"> = {},
): ExecutionResult {
  const boundary = state.boundary;
  const { upper, last } = splitGraph(graph, boundary);
  const activations = options.replace ?? state.activations;
  const result = tf.tidy((): tf.TensorContainer => {
    const classOf = (logits: tf.Tensor2D): tf.Tensor1D =>
      options.classIndex === undefined
        ? tf.argMax(logits, 1) as tf.Tensor1D
        : tf.fill([logits.shape[0]], options.classIndex, "int32");

    const upperLogits = (a: tf.Tensor): tf.Tensor2D => {
      const local = new Map(state.values);
      local.set(last, a);
      evaluate(upper, local, new Set([...local.keys()]));
      return local.get(graph.logits)! as tf.Tensor2D;
    };

    if (!options.gradients || boundary === null) {
      // Without an upper part the state's tensor is the logits: copy it so
      // the result never aliases the state.
      const logits = upper.length
        ? upperLogits(activations)
        : tf.clone(activations) as tf.Tensor2D;
      return { logits, classIndex: classOf(logits) };
    }
    let logits: tf.Tensor2D | null = null;
    let classIndex: tf.Tensor1D | null = null;
    const gradients = tf.grad((a: tf.Tensor) => {
      const l = upperLogits(a);
      const c = classOf(l);
      logits = tf.keep(l);
      classIndex = tf.keep(c);
      const mask = tf.oneHot(c, l.shape[1]);
      return tf.sum(tf.mul(l, mask));
    })(activations);
    return { logits: logits!, classIndex: classIndex!, gradients };
  }) as { logits: tf.Tensor2D; classIndex: tf.Tensor1D; gradients?: tf.Tensor };
  return {
    logits: result.logits,
    classIndex: result.classIndex,
    activations: boundary === null ? null : activations,
    gradients: result.gradients ?? null,
  };
}

/**
 * A whole pass: {@linkcode runLower} then {@linkcode runUpper}. The returned
 * `activations` tensor (when a boundary is given) is the caller's to dispose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { compileGraph, describeModel } from "./graph.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { selectBackend } from "./backend.ts";
 * await selectBackend("cpu");
 * // A tiny Keras classifier (random weights): conv, batch norm, ReLU, pooling, dense.
 * const input = tfl.input({ shape: [8, 8, 3], name: "input_1" });
 * const layers = [
 *   tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", name: "conv1" }),
 *   tfl.layers.batchNormalization({ name: "bn_conv1" }),
 *   tfl.layers.activation({ activation: "relu", name: "activation" }),
 *   tfl.layers.globalAveragePooling2d({ name: "avg_pool" }),
 *   tfl.layers.dense({ units: 3, activation: "softmax", name: "fc1000" }),
 * ];
 * const output = layers.reduce((x, layer) => layer.apply(x) as tfl.SymbolicTensor, input);
 * const model = tfl.model({ inputs: input, outputs: output });
 * const graph = compileGraph(describeModel(model), { boundary: "activation" });
 * const x = tf.ones([1, 8, 8, 3]) as tf.Tensor4D;
 * const r = executeGraph(graph, x, { boundary: "activation", gradients: true }); // ResNet-50: "activation_48"
 * const grads = await r.gradients!.data();
 * tf.dispose([r.logits, r.classIndex, r.activations!, r.gradients!, x]);
 * assert.equal(grads.length, 8 * 8 * 4);
 * model.dispose();
 * ```
 */
export function executeGraph(
  graph: CompiledGraph,
  input: tf.Tensor4D,
  options: ExecuteOptions = {},
): ExecutionResult {
  const boundary = options.boundary ?? null;
  const state = runLower(graph, input, { boundary });
  const result = runUpper(graph, state, options);
  const activations = result.activations === state.activations
    ? tf.clone(state.activations)
    : result.activations;
  state.dispose();
  return { ...result, activations };
}
