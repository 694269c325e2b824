/**
 * `Query.model` and `Query.models`: the models served and the engine each
 * runs on.
 *
 * @module
 */
import type { LayerInfo } from "../../models/mod.ts";
import type { ModelDescription } from "../../workers/mod.ts";
import type { LumenContext } from "../context.ts";
import { untilScopeEnds } from "../model_job.ts";

/** The `ModelInfo` GraphQL type. */
export interface ModelInfo {
  name: string;
  backend: string;
  adapter: string | null;
  threads: number;
  inputSize: number;
  classes: number;
  preprocessing: string;
  defaultLayer: string;
  layers: readonly LayerInfo[];
  labels: readonly string[];
}

/**
 * The `ModelInfo` of a description.
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model: `service` is the server's (workers/mod.ts).
 * modelInfo(await service.describe()).backend; // "onnxruntime"
 * ```
 */
export function modelInfo(model: ModelDescription): ModelInfo {
  return {
    name: model.name,
    backend: model.backend.name,
    adapter: model.backend.adapter,
    threads: model.backend.threads,
    inputSize: model.inputSize.width,
    classes: model.labels.length,
    preprocessing: model.preprocessing,
    defaultLayer: model.defaultLayer,
    layers: model.layers,
    labels: model.labels,
  };
}

/**
 * Resolves `model(name)`: the default model without a name, loading a
 * named one on first use; `MODEL_NOT_READY` while the server starts,
 * `UNKNOWN_MODEL` for a name not served.
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Query: { model }`.
 * const query = `{ model { name backend defaultLayer } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query }),
 * }));
 * (await response.json()).data.model.defaultLayer; // the last stage's output
 * ```
 */
export async function model(
  _root: unknown,
  args: { name?: string | null },
  context: LumenContext,
): Promise<ModelInfo> {
  const description = await untilScopeEnds(
    context.lumen.service.describe(args.name, { signal: context.scope.signal }),
    context,
  );
  return modelInfo(description);
}

/** The `ModelSummary` GraphQL type. */
export interface ModelSummary {
  name: string;
  isDefault: boolean;
}

/**
 * Resolves `models`: every model served, the default first (nothing is
 * loaded to answer).
 *
 * @example
 * ```ts ignore
 * // Needs the server's service: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Query: { models }`.
 * const query = `{ models { name isDefault } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query }),
 * }));
 * (await response.json()).data.models[0]; // { name: "resnet50", isDefault: true }
 * ```
 */
export function models(
  _root: unknown,
  _args: unknown,
  context: LumenContext,
): ModelSummary[] {
  return context.lumen.service.modelNames.map((name, i) => ({
    name,
    isDefault: i === 0,
  }));
}
