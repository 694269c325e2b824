/**
 * `Query.explain`: one method's explanation of one image.
 *
 * @module
 */
import type { GraphQLResolveInfo } from "graphql";
import type { LumenContext } from "../context.ts";
import {
  analyzeRequest,
  type ExplainFieldArgs,
  type ExplanationResult,
} from "../explanation.ts";

/** Arguments of `Query.explain`. */
export interface ExplainArgs extends ExplainFieldArgs {
  method: string;
}

/**
 * Resolves `explain(image, method, layer, classIndex, className, options,
 * render)`.
 *
 * @example
 * ```ts
 * const resolvers = { Query: { explain } };
 * ```
 */
export async function explain(
  _root: unknown,
  args: ExplainArgs,
  context: LumenContext,
  info: GraphQLResolveInfo,
): Promise<ExplanationResult> {
  const request = await analyzeRequest(
    context,
    args,
    [args.method],
    info,
    "explain",
  );
  return request.explanation(args.method);
}
