/**
 * `Query.explainers`: the registered explanation methods.
 *
 * @module
 */
import type { LumenContext } from "../context.ts";

/** The `ExplainerInfo` GraphQL type. */
export interface ExplainerInfo {
  name: string;
  description: string;
  needsGradients: boolean;
  slow: boolean;
}

/**
 * Resolves `explainers`; needs no model, so it answers while loading.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execute, parse } from "graphql";
 * import { createRegistry } from "../../explainers/mod.ts";
 * import { lumenSchema } from "../schema.ts";
 * // lumenSchema() wires it (`Query: { explainers }`); it reads only the registry.
 * const result = await execute({
 *   schema: lumenSchema(),
 *   document: parse("{ explainers { name needsGradients } }"),
 *   contextValue: { lumen: { registry: createRegistry() } },
 * });
 * const { data } = JSON.parse(JSON.stringify(result)); // the response, as JSON
 * assert.deepEqual(data.explainers.slice(0, 2), [
 *   { name: "activation", needsGradients: false },
 *   { name: "gradcam", needsGradients: true },
 * ]);
 * ```
 */
export function explainers(
  _root: unknown,
  _args: unknown,
  context: LumenContext,
): ExplainerInfo[] {
  return context.lumen.registry.list().map((e) => ({
    name: e.name,
    description: e.description,
    needsGradients: e.needsGradients,
    slow: e.slow ?? false,
  }));
}
