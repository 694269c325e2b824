/**
 * What the ONNX engine runs: a classifier graph and its layer list, whether
 * it was exported from a TF.js layers model or read from a user's `.onnx`
 * file.
 *
 * @module
 */
import type { GraphLayer } from "../engine.ts";
import type { Graph } from "./ir.ts";
import type { WeightsFile } from "./weights_file.ts";

/** A classifier the ONNX engine can run, split at any of its layers. */
export interface OnnxSource {
  readonly input: { name: string; width: number; height: number };
  readonly classes: number;
  /** Every layer, topologically ordered, the input first. */
  readonly layers: readonly GraphLayer[];
  readonly defaultLayer: string;
  /** Bytes of the weights. */
  readonly weightBytes: number;
  /**
   * The file the graphs' external initializers are in (the engine closes
   * it when disposed); null: every initializer's values are in memory.
   */
  readonly weightsFile: WeightsFile | null;
  /**
   * The graph in which `layer` (a name from `layers`) is the tensor `tensor`
   * (for the input layer: the channels-last graph input); null: the graph
   * for whole forwards. Throws for a name that is no layer of the graph.
   */
  graphFor(layer: string | null): { graph: Graph; tensor: string };
}

/**
 * A layer's shape as the engine contract gives it: `[H, W, C]` for a 4-D
 * NCHW tensor, else the shape without the batch axis.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(layerShape([-1, 64, 7, 7]), [7, 7, 64]); // NCHW to HWC
 * assert.deepEqual(layerShape([-1, 1000]), [1000]);
 * ```
 */
export function layerShape(shape: readonly number[]): number[] {
  return shape.length === 4
    ? [shape[2], shape[3], shape[1]]
    : shape.slice(1).map((d) => Math.max(d, -1));
}
