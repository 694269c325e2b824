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
 * const resolvers = { Query: { explainers } };
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
