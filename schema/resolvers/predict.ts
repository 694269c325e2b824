/**
 * `Query.predict`: the most likely classes of one image.
 *
 * @module
 */
import { type Prediction, topClasses } from "../../explainers/analysis.ts";
import { clientError } from "../../lib/errors.ts";
import { type LumenContext, requireRuntime } from "../context.ts";
import {
  checkImageInput,
  decodeImageBytes,
  type ImageInputArg,
  readImageBytes,
} from "../image_input.ts";
import { modelJob, refuseEarly } from "../model_job.ts";

/** Arguments of `Query.predict`. */
export interface PredictArgs {
  image: ImageInputArg;
  top?: number | null;
}

/**
 * Resolves `predict(image, top)`: one forward pass, the `top` classes, as a
 * model job (decoding included).
 *
 * @example
 * ```ts
 * const resolvers = { Query: { predict } };
 * ```
 */
export async function predict(
  _root: unknown,
  args: PredictArgs,
  context: LumenContext,
): Promise<Prediction[]> {
  const { lumen } = context;
  const runtime = requireRuntime(lumen);
  const source = checkImageInput(args.image);
  const top = args.top ?? 5;
  const classes = runtime.labels.length;
  if (!Number.isInteger(top) || top < 1 || top > classes) {
    throw clientError(
      "BAD_USER_INPUT",
      `top must be from 1 to ${classes}, got ${top}`,
    );
  }
  // Downloading is slow: not for a request the queue would refuse anyway.
  if (source.kind === "url") refuseEarly(context, "predict");
  const bytes = await readImageBytes(source, context);
  return await modelJob(context, "predict", async (signal) => {
    const { image } = await decodeImageBytes(bytes, lumen.limits);
    signal.throwIfAborted();
    const pass = await runtime.run(runtime.prepare(image), { layer: null });
    return topClasses(pass.probabilities, runtime.labels, top);
  });
}
