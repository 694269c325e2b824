/**
 * The contract between the model runtime and an engine that executes a
 * network: TF.js (WebGPU, WASM, CPU) or ONNX Runtime. An engine runs a
 * pass in two halves split at any layer: {@linkcode Engine.lower} from the
 * input up to the layer, {@linkcode Engine.upper} from there to the logits
 * (with the gradient of one class logit with respect to the layer, on
 * request). Everything crossing this boundary is a plain array: tensors,
 * device buffers and sessions stay inside the engine.
 *
 * Layouts: model inputs are preprocessed, channels-last (HWC) float32
 * arrays of `input.height * input.width * 3` values, one per batch item;
 * feature maps are HWC too, whatever the engine uses inside.
 *
 * @module
 */

/** An engine Lumen can run a model on. */
export type EngineName = "webgpu" | "onnxruntime" | "wasm" | "cpu";

/** What a user may ask for: an engine, or `auto` (the best that starts). */
export type EnginePreference = "auto" | EngineName;

/**
 * Every accepted `--backend` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(ENGINE_PREFERENCES.includes("onnxruntime"), true);
 * assert.equal(ENGINE_PREFERENCES[0], "auto");
 * ```
 */
export const ENGINE_PREFERENCES: readonly EnginePreference[] = [
  "auto",
  "webgpu",
  "onnxruntime",
  "wasm",
  "cpu",
];

/** The engine actually running, and how it came to be chosen. */
export interface EngineInfo {
  name: EngineName;
  /** The WebGPU adapter, e.g. "llvmpipe (software)"; null off WebGPU. */
  adapter: string | null;
  /** Threads the engine computes with. */
  threads: number;
  /** Why earlier candidates were skipped, in order. */
  skipped: string[];
}

/** A layer's activations (or gradients), height × width × channels. */
export interface FeatureMap {
  height: number;
  width: number;
  channels: number;
  /** Row-major HWC values. */
  data: Float32Array;
}

/** One node of the network as the layer catalog sees it. */
export interface GraphLayer {
  /** Unique name: the Keras layer name, or the ONNX node's output name. */
  readonly name: string;
  /** The Keras class (`Conv2D`) or the ONNX op type (`Conv`). */
  readonly kind: string;
  /** Names of the layers feeding this one. */
  readonly inputs: readonly string[];
  /**
   * Output shape without the batch axis; a 4-D output is given as
   * `[height, width, channels]` whatever the engine's layout.
   */
  readonly shape: readonly number[];
  /** Whether the output is a 4-D feature map (batch, height, width, channels). */
  readonly spatial: boolean;
  /** Other names the engine derived for it (`layer4`, `conv5_block3_out`). */
  readonly aliases: readonly string[];
}

/**
 * The part of a pass below (and including) a layer, for one batch: its
 * activations plus whatever the rest of the network still reads (residual
 * skips). Owned by whoever holds it until {@linkcode LowerState.dispose}.
 */
export interface LowerState {
  /** The layer the pass stopped at; null: it ran to the logits. */
  readonly layer: string | null;
  /** Batch items. */
  readonly batch: number;
  /** Bytes it holds (device or host), for cache accounting. */
  readonly bytes: number;
  dispose(): void;
}

/** Options of {@linkcode Engine.upper}. */
export interface UpperOptions {
  /** Also return d(logit of the class)/d(layer activations). */
  gradients?: boolean | undefined;
  /** Also return the layer's activations (the state's, or `replace`). */
  activations?: boolean | undefined;
  /** Class to differentiate, for every item; @default each item's top-1 */
  classIndex?: number | undefined;
  /**
   * Continue from these activations (HWC each, any count) instead of the
   * state's: the state must have batch 1, and its skip tensors serve every
   * replacement. The caller keeps ownership.
   */
  replace?: readonly Float32Array[] | undefined;
}

/** What {@linkcode Engine.upper} computes, one entry per batch item. */
export interface UpperResult {
  /** Pre-softmax class scores. */
  logits: Float32Array[];
  /** The class the gradients are (or would be) for. */
  classIndex: number[];
  activations: FeatureMap[] | null;
  gradients: FeatureMap[] | null;
}

/** A loaded network on one engine. */
export interface Engine {
  readonly info: EngineInfo;
  /** The input node; `lower(inputs, input.name)` stops at the input itself. */
  readonly input: { name: string; width: number; height: number };
  /** Number of classes (the logits' length). */
  readonly classes: number;
  /** Every node, in topological order, the input first. */
  readonly layers: readonly GraphLayer[];
  /** The layer explanations use when none is asked for (a CNN's last feature map). */
  readonly defaultLayer: string;
  /** Bytes of weights the engine holds. */
  readonly weightBytes: number;
  /**
   * Working memory one batch item of a pass needs, in bytes (an estimate
   * from the layer shapes), for sizing batches within a memory budget.
   *
   * @param layer where the pass is split (null: logits only; the input's
   *   name: gradients to the input)
   * @param gradients whether the upper half runs backward too
   */
  itemBytes(layer: string | null, gradients: boolean): number;
  /**
   * Runs the network from `inputs` up to `layer`: null runs it all (then
   * `upper` only reads the logits), the input's name runs nothing.
   * Rejects when `layer` is not a node.
   */
  lower(
    inputs: readonly Float32Array[],
    layer: string | null,
  ): Promise<LowerState>;
  /**
   * Continues a pass from `state` (not consumed) to the logits; gradients
   * never flow below the state's layer, so tensors from below (residual
   * skips) are constants.
   */
  upper(state: LowerState, options?: UpperOptions): Promise<UpperResult>;
  /** Releases weights, sessions and device memory. */
  dispose(): void;
}
