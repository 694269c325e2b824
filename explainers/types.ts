/**
 * The explainer contract: a plain object that turns one shared model pass
 * into a map at the layer's resolution. Explainers hand back plain arrays,
 * never tensors.
 *
 * @module
 */
import type { ModelPass, ModelRuntime } from "../models/mod.ts";

/** What an explainer gets: the shared pass and the means to run more. */
export interface ExplainContext {
  runtime: ModelRuntime;
  /** The one forward (and, if any method needs it, backward) pass. */
  pass: ModelPass;
  /** The preprocessed model input, for methods that run extra passes. */
  input: Float32Array;
  /** Long methods report the fraction done, 0 to 1, in order. */
  onProgress?: ((fraction: number) => void) | undefined;
  /** Aborted when the request is abandoned: long methods stop early. */
  signal?: AbortSignal | undefined;
  /**
   * Long methods await it between batches: it resolves when the work may
   * go on (cheaper requests run first).
   */
  pause?: (() => Promise<void>) | undefined;
}

/** A map before ReLU and scaling, row-major. */
export interface RawMap {
  width: number;
  height: number;
  values: Float32Array;
  /**
   * Method-specific diagnostics, e.g. integrated gradients'
   * `completenessError`; absent for most methods.
   */
  details?: Record<string, number>;
}

/**
 * The cost of one forward pass with a backward pass to the input, in
 * forward passes (the backward costs about twice the forward).
 */
export const INPUT_GRADIENT_COST = 3;

/** What a method's cost depends on besides its options. */
export interface CostContext {
  /** The model's input size. */
  inputSize: { width: number; height: number };
  /** The layer's output shape, `[height, width, channels]`. */
  layerShape: readonly number[];
}

/** An explanation method. */
export interface Explainer<P = unknown> {
  /** Lowercase id, as in pytorch-grad-cam (`gradcam`). */
  readonly name: string;
  /** One line: what the map shows. */
  readonly description: string;
  /** Whether the shared pass must include gradients at the layer. */
  readonly needsGradients: boolean;
  /**
   * Whether it runs many extra model passes (seconds rather than
   * milliseconds): clients show progress or run it as a job.
   * @default false
   */
  readonly slow?: boolean;
  /**
   * Where the map lives: on the layer's grid (`"layer"`, the default), or
   * over the model input (`"input"`: pixel attributions at the input's size,
   * occlusion on its patch grid), the same whatever the layer.
   */
  readonly resolution?: "layer" | "input";
  /** Validates user options; throws a `BAD_USER_INPUT` client error. */
  parseParams(raw: unknown): P;
  /**
   * Model work beyond the shared pass, in passes: a whole forward counts
   * 1, a forward with a backward to the input 3. For the request cost cap
   * and the queue's lanes. @default 0 (nothing beyond the shared pass)
   */
  cost?(params: P, context: CostContext): number;
  explain(ctx: ExplainContext, params: P): RawMap | Promise<RawMap>;
}
