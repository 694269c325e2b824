/**
 * `Query.explainMany`: several methods on one image, one shared model pass,
 * one call to the explanation service. Methods are computed one at a time, in the order given
 * (running several at once would only compete for the same CPU or GPU, and
 * multiply memory); with `@stream`, each explanation is sent as soon as it
 * is computed.
 *
 * @module
 */
import type { GraphQLResolveInfo } from "graphql";
import type { LumenContext } from "../context.ts";
import {
  type AnalyzedRequest,
  analyzeRequest,
  type ExplainFieldArgs,
  type ExplanationResult,
} from "../explanation.ts";

/** Arguments of `Query.explainMany`. */
export interface ExplainManyArgs extends ExplainFieldArgs {
  methods: string[];
}

/** Yields each method's explanation once the job has computed it. */
async function* oneByOne(
  request: AnalyzedRequest,
): AsyncGenerator<ExplanationResult> {
  for (const method of request.methods) {
    await request.settled(method);
    yield request.explanation(method);
  }
}

/**
 * Resolves `explainMany(image, methods, ...)`. Every argument is validated
 * (unknown methods included) before any work; the result is an async
 * generator, so `@stream` delivers each item as it is yielded.
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Query: { explainMany }`.
 * const query = `{ explainMany(image: { base64: "${base64}" }, methods: ["gradcam", "activation"]) { method overlay } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query }),
 * }));
 * (await response.json()).data.explainMany.length; // 2, in the order asked
 * ```
 */
export async function explainMany(
  _root: unknown,
  args: ExplainManyArgs,
  context: LumenContext,
  info: GraphQLResolveInfo,
): Promise<AsyncGenerator<ExplanationResult>> {
  const request = await analyzeRequest(
    { context, info, field: "explainMany" },
    args,
  );
  return oneByOne(request);
}
