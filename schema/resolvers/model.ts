/**
 * `Query.model`: the loaded model and the backend it runs on.
 *
 * @module
 */
import type { LayerInfo } from "../../models/mod.ts";
import { type LumenContext, requireRuntime } from "../context.ts";

/** The `ModelInfo` GraphQL type. */
export interface ModelInfo {
  name: string;
  backend: string;
  adapter: string | null;
  inputSize: number;
  classes: number;
  preprocessing: string;
  defaultLayer: string;
  layers: readonly LayerInfo[];
  labels: readonly string[];
}

/**
 * Resolves `model`; `MODEL_NOT_READY` while the model loads.
 *
 * @example
 * ```ts
 * const resolvers = { Query: { model } };
 * ```
 */
export function model(
  _root: unknown,
  _args: unknown,
  context: LumenContext,
): ModelInfo {
  const runtime = requireRuntime(context.lumen);
  return {
    name: runtime.name,
    backend: runtime.backend.name,
    adapter: runtime.backend.adapter,
    inputSize: runtime.inputSize.width,
    classes: runtime.labels.length,
    preprocessing: runtime.preprocessing,
    defaultLayer: runtime.catalog.defaultLayer,
    layers: runtime.catalog.layers,
    labels: runtime.labels,
  };
}
