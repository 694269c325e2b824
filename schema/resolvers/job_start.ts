/**
 * `Mutation.startExplanation`: queues an explanation job. Every argument
 * is checked first, as `explain` checks them (methods, options, layer,
 * class, render settings), and so are the job's cost (`--max-job-passes`)
 * and the image (size, and its header: format and pixels), so that a bad
 * request answers an error and never becomes a job. The job carries the
 * checked request and the image as base64: plain JSON that any worker can
 * run.
 *
 * @module
 */
import { checkCost, checkExplain, explainCost } from "../../explain/mod.ts";
import { clientError, encodeBase64, readImageHeader } from "../../lib/mod.ts";
import { modelView } from "../../workers/mod.ts";
import type { LumenContext } from "../context.ts";
import type { ExplainFieldArgs } from "../explanation.ts";
import { checkImageInput, readImageBytes } from "../image_input.ts";
import { untilScopeEnds } from "../model_job.ts";
import { jobObject, type JobResult, jobsOf } from "./job_object.ts";

/** Arguments of `Mutation.startExplanation`. */
export interface StartExplanationArgs extends ExplainFieldArgs {
  methods: string[];
}

/** Refuses an image whose header is not a PNG or JPEG, or is too large. */
function checkImageHeader(bytes: Uint8Array, maxPixels: number): void {
  const { width, height } = readImageHeader(bytes);
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw clientError(
      "IMAGE_TOO_LARGE",
      `Image is too large: ${width}x${height} is ${pixels} pixels, the limit is ${maxPixels}`,
      { limit: maxPixels, pixels },
    );
  }
}

/**
 * Resolves `startExplanation(image, methods, layer, classIndex, className,
 * options, render, model)`: the queued job.
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Mutation: { startExplanation }`.
 * const query = `mutation { startExplanation(image: { base64: "${base64}" }, methods: ["scorecam"]) { id state } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query }),
 * }));
 * (await response.json()).data.startExplanation.state; // "queued"
 * ```
 */
export async function startExplanation(
  _root: unknown,
  args: StartExplanationArgs,
  context: LumenContext,
): Promise<JobResult> {
  const jobs = jobsOf(context);
  const { lumen } = context;
  const source = checkImageInput(args.image);
  const model = modelView(
    await untilScopeEnds(
      lumen.service.describe(args.model, { signal: context.scope.signal }),
      context,
    ),
  );
  const deps = { model, registry: lumen.registry };
  const request = checkExplain(deps, {
    model: args.model,
    methods: args.methods,
    layer: args.layer,
    classIndex: args.classIndex,
    className: args.className,
    options: args.options,
    render: args.render,
    outputs: { maps: true, overlay: true, heatmap: true },
  }, lumen.limits);
  checkCost(explainCost(deps, request), jobs.maxPasses, { job: true });
  const bytes = await readImageBytes(source, context);
  checkImageHeader(bytes, lumen.limits.maxPixels);
  const job = await jobs.queue.start(
    { request, image: encodeBase64(bytes) },
    { labels: request.methods },
  );
  return jobObject(job);
}
