/**
 * Looking ahead at what a query selects, so that resolvers can tell eager
 * work from work the client deferred or did not ask for.
 *
 * @module
 */
import {
  type DirectiveNode,
  type GraphQLResolveInfo,
  Kind,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

function argumentValue(
  directive: DirectiveNode,
  name: string,
  variables: Record<string, unknown>,
): unknown {
  const arg = directive.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  const value: ValueNode = arg.value;
  if (value.kind === Kind.BOOLEAN) return value.value;
  if (value.kind === Kind.VARIABLE) return variables[value.name.value];
  return undefined;
}

/** Whether @skip / @include leave the node in. */
function included(
  directives: readonly DirectiveNode[] | undefined,
  variables: Record<string, unknown>,
): boolean {
  for (const d of directives ?? []) {
    const condition = argumentValue(d, "if", variables);
    if (d.name.value === "skip" && condition === true) return false;
    if (d.name.value === "include" && condition === false) return false;
  }
  return true;
}

function deferred(
  directives: readonly DirectiveNode[] | undefined,
  variables: Record<string, unknown>,
): boolean {
  const defer = directives?.find((d) => d.name.value === "defer");
  return defer !== undefined && argumentValue(defer, "if", variables) !== false;
}

/** Options of {@linkcode selectsEagerly} and {@linkcode selectsAnywhere}. */
export interface SelectsOptions {
  /**
   * Field names leading from the field being resolved to the selection to
   * look in (e.g. `["explanation"]`); @default [] (its own sub-selection)
   */
  path?: readonly string[];
}

function selects(
  info: GraphQLResolveInfo,
  names: readonly string[],
  followDeferred: boolean,
  path: readonly string[],
): boolean {
  const variables = info.variableValues;
  const seen = new Set<string>();
  const skip = (directives: readonly DirectiveNode[] | undefined) =>
    !followDeferred && deferred(directives, variables);
  const visit = (set: SelectionSetNode | undefined, at: number): boolean => {
    for (const selection of set?.selections ?? []) {
      if (!included(selection.directives, variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (at === path.length) {
          if (names.includes(name)) return true;
        } else if (name === path[at]) {
          if (visit(selection.selectionSet, at + 1)) return true;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (skip(selection.directives)) continue;
        if (visit(selection.selectionSet, at)) return true;
      } else {
        if (skip(selection.directives)) continue;
        const name = selection.name.value;
        const key = `${at} ${name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (visit(info.fragments[name]?.selectionSet, at)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((node) => visit(node.selectionSet, 0));
}

/**
 * Whether the field being resolved selects any of `names` directly in its
 * sub-selection, outside `@defer` fragments (fragments are followed,
 * `@skip` / `@include` respected).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSchema, execute, type GraphQLResolveInfo, parse } from "graphql";
 * const schema = buildSchema(`
 *   type Query { explain: Explanation, explainProgress: Progress }
 *   type Explanation { label: String, overlay: String, heatmap: String }
 *   type Progress { fraction: Float, explanation: Explanation }
 * `);
 * // What a root field's resolver sees: its `info`.
 * const infoOf = (query: string): GraphQLResolveInfo => {
 *   let seen: GraphQLResolveInfo | undefined;
 *   execute({
 *     schema,
 *     document: parse(query),
 *     fieldResolver: (_source, _args, _context, info) => {
 *       seen ??= info;
 *       return null;
 *     },
 *   });
 *   return seen!;
 * };
 * assert.equal(selectsEagerly(infoOf("{ explain { label overlay } }"), ["overlay", "heatmap"]), true);
 * assert.equal(selectsEagerly(infoOf("{ explain { label ... @defer { overlay } } }"), ["overlay"]), false);
 * const progress = infoOf("{ explainProgress { fraction explanation { overlay } } }");
 * assert.equal(selectsEagerly(progress, ["overlay"], { path: ["explanation"] }), true);
 * ```
 */
export function selectsEagerly(
  info: GraphQLResolveInfo,
  names: readonly string[],
  options: SelectsOptions = {},
): boolean {
  return selects(info, names, false, options.path ?? []);
}

/**
 * Whether the field being resolved selects any of `names` directly in its
 * sub-selection, `@defer` fragments included (`@skip` / `@include`
 * respected): whether the response will need them at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSchema, execute, type GraphQLResolveInfo, parse } from "graphql";
 * const schema = buildSchema("type Query { explain: Explanation } type Explanation { label: String, overlay: String }");
 * let info: GraphQLResolveInfo | undefined; // what Query.explain's resolver sees
 * execute({
 *   schema,
 *   document: parse("{ explain { label ... @defer { overlay } } }"),
 *   fieldResolver: (_source, _args, _context, fieldInfo) => {
 *     info ??= fieldInfo;
 *     return null;
 *   },
 * });
 * assert.equal(selectsAnywhere(info!, ["overlay"]), true); // deferred, still selected
 * assert.equal(selectsAnywhere(info!, ["heatmap"]), false);
 * ```
 */
export function selectsAnywhere(
  info: GraphQLResolveInfo,
  names: readonly string[],
  options: SelectsOptions = {},
): boolean {
  return selects(info, names, true, options.path ?? []);
}
