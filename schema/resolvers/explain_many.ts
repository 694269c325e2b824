/**
 * `Query.explainMany`: several methods on one image, one shared model pass.
 * Methods are computed one at a time, in the order given (running several
 * at once would only compete for the same CPU or GPU, and multiply memory);
 * with `@stream`, each explanation is sent as soon as it is computed.
 *
 * @module
 */
import type { GraphQLResolveInfo } from "graphql";
import type { LumenContext } from "../context.ts";
import {
  type AnalyzedRequest,
  analyzeRequest,
  type ExplainArgs,
  type ExplanationResult,
} from "../explanation.ts";

/** Arguments of `Query.explainMany`. */
export interface ExplainManyFieldArgs extends ExplainArgs {
  methods: string[];
}

/** Computes and yields each method's explanation, one macrotask apart. */
async function* oneByOne(
  request: AnalyzedRequest,
): AsyncGenerator<ExplanationResult> {
  for (const method of request.methods) {
    await request.analysis.explain(method);
    yield request.explanation(method);
    // Let the server flush this item before the next computation starts.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/**
 * Resolves `explainMany(image, methods, ...)`. Every argument is validated
 * (unknown methods included) before any work; the result is an async
 * generator, so `@stream` delivers each item as it is yielded.
 *
 * @example
 * ```ts
 * const resolvers = { Query: { explainMany } };
 * ```
 */
export async function explainMany(
  _root: unknown,
  args: ExplainManyFieldArgs,
  context: LumenContext,
  info: GraphQLResolveInfo,
): Promise<AsyncGenerator<ExplanationResult>> {
  const request = await analyzeRequest(context, args, args.methods, info);
  return oneByOne(request);
}
