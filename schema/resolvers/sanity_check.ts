/**
 * `Query.sanityCheck`: the model-randomization sanity check of one method
 * on one image (`explain/evaluate.ts`), as one call to the explanation
 * service. The randomized copy of the model is loaded on first use by the
 * process that runs the call (1–2 s for ResNet-50), then kept.
 *
 * @module
 */
import { checkExplain } from "../../explain/mod.ts";
import { clientError } from "../../lib/mod.ts";
import { modelView } from "../../workers/mod.ts";
import type { LumenContext } from "../context.ts";
import {
  type ExplainFieldArgs,
  type HeatmapResult,
  heatmapResult,
} from "../explanation.ts";
import { checkImageInput, readImageBytes } from "../image_input.ts";
import { modelJob, untilScopeEnds } from "../model_job.ts";

/** Arguments of `Query.sanityCheck`. */
export interface SanityCheckArgs extends Omit<ExplainFieldArgs, "render"> {
  /** @default "gradcam" */
  method?: string | null;
}

/** The `SanityCheck` GraphQL type. */
export interface SanityCheckResult {
  method: string;
  layer: string;
  classIndex: number;
  label: string;
  spearman: number;
  trainedMap: HeatmapResult;
  randomizedMap: HeatmapResult;
}

/**
 * Resolves `sanityCheck(image, method, layer, classIndex, className,
 * options, model)`: every argument is checked before any work;
 * `UNSUPPORTED_MODEL` when the model cannot be randomized.
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Query: { sanityCheck }`.
 * const query = `{ sanityCheck(image: { base64: "${base64}" }, method: "gradcam") { spearman } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query }),
 * }));
 * (await response.json()).data.sanityCheck.spearman; // low: the map depends on the weights
 * ```
 */
export async function sanityCheck(
  _root: unknown,
  args: SanityCheckArgs,
  context: LumenContext,
): Promise<SanityCheckResult> {
  const { lumen } = context;
  const method = args.method ?? "gradcam";
  const source = checkImageInput(args.image);
  const model = await untilScopeEnds(
    lumen.service.describe(args.model, { signal: context.scope.signal }),
    context,
  );
  if (!model.randomizable) {
    throw clientError(
      "UNSUPPORTED_MODEL",
      `sanityCheck is not available for the model "${model.name}": the server has no randomizable copy of its weights`,
    );
  }
  const checked = checkExplain(
    { model: modelView(model), registry: lumen.registry },
    { ...args, methods: [method] },
    lumen.limits,
  );
  const image = await readImageBytes(source, context);
  const result = await modelJob(
    { context, field: "sanityCheck" },
    (signal) =>
      lumen.service.sanityCheck({
        model: model.name,
        image,
        method,
        layer: checked.layer,
        classIndex: checked.classIndex,
        params: checked.params[method],
      }, { signal }),
  );
  return {
    method,
    layer: checked.layer,
    classIndex: result.classIndex,
    label: model.labels[result.classIndex],
    spearman: result.spearman,
    trainedMap: heatmapResult(result.trained.heatmap),
    randomizedMap: heatmapResult(result.randomized.heatmap),
  };
}
