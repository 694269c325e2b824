/**
 * `Query.predict`: the most likely classes of one image.
 *
 * @module
 */
import type { Prediction } from "../../explainers/mod.ts";
import { checkTop } from "../../explain/mod.ts";
import { overloaded } from "../../workers/mod.ts";
import type { LumenContext } from "../context.ts";
import {
  checkImageInput,
  type ImageInputArg,
  readImageBytes,
} from "../image_input.ts";
import { modelJob, untilScopeEnds } from "../model_job.ts";

/** Arguments of `Query.predict`. */
export interface PredictArgs {
  image: ImageInputArg;
  top?: number | null;
  model?: string | null;
}

/**
 * Resolves `predict(image, top, model)`: one forward pass, the `top`
 * classes.
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Query: { predict }`.
 * const query = `{ predict(image: { base64: "${base64}" }, top: 3) { label probability } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query }),
 * }));
 * (await response.json()).data.predict[0].label; // e.g. "tabby"
 * ```
 */
export async function predict(
  _root: unknown,
  args: PredictArgs,
  context: LumenContext,
): Promise<Prediction[]> {
  const { service } = context.lumen;
  const source = checkImageInput(args.image);
  const model = await untilScopeEnds(
    service.describe(args.model, { signal: context.scope.signal }),
    context,
  );
  const top = checkTop(model.labels, args.top ?? 5);
  // Downloading is slow: not for a request the queue would refuse anyway.
  if (source.kind === "url" && service.full(1)) {
    throw overloaded(service.stats().queue.maxQueued);
  }
  const image = await readImageBytes(source, context);
  return await modelJob(
    { context, field: "predict" },
    (signal) => service.predict({ model: model.name, image, top }, { signal }),
  );
}
