/**
 * Explainer plugins: modules whose default export is an `Explainer` or an
 * array of them (`--plugin PATH`). The server and every model worker load
 * the same list.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Explainer } from "./types.ts";

function isExplainer(value: unknown): value is Explainer {
  const e = value as Explainer;
  return typeof e === "object" && e !== null && typeof e.name === "string" &&
    typeof e.description === "string" &&
    typeof e.needsGradients === "boolean" &&
    typeof e.parseParams === "function" && typeof e.explain === "function";
}

/**
 * Imports explainer plugins (paths relative to the working directory).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const extra = await loadPlugins(["explainers/examples/center_bias.ts"]);
 * assert.deepEqual(extra.map((e) => e.name), ["centerbias"]);
 * ```
 */
export async function loadPlugins(
  paths: readonly string[],
): Promise<Explainer[]> {
  const found: Explainer[] = [];
  for (const path of paths) {
    const module = await import(pathToFileURL(resolve(path)).href);
    const exported = module.default;
    const list = Array.isArray(exported) ? exported : [exported];
    if (list.length === 0 || !list.every(isExplainer)) {
      throw new Error(
        `Plugin ${path}: the default export must be an Explainer ({ name, description, needsGradients, parseParams, explain }) or an array of them`,
      );
    }
    found.push(...list);
  }
  return found;
}
