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
  onProgress?: (fraction: number) => void;
  /** Aborted when the request is abandoned: long methods stop early. */
  signal?: AbortSignal;
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
  explain(ctx: ExplainContext, params: P): RawMap | Promise<RawMap>;
}
