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
 * ```ts ignore
 * // Needs a loaded model: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Query: { explain }`.
 * const query = `{ explain(image: { base64: "${base64}" }, method: "gradcam") { label overlay } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query }),
 * }));
 * (await response.json()).data.explain.label; // e.g. "tabby"
 * ```
 */
export async function explain(
  _root: unknown,
  args: ExplainArgs,
  context: LumenContext,
  info: GraphQLResolveInfo,
): Promise<ExplanationResult> {
  const request = await analyzeRequest(
    { context, info, field: "explain" },
    { ...args, methods: [args.method] },
  );
  return request.explanation(args.method);
}
