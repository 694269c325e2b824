/**
 * `Query.sanityCheck`: the model-randomization sanity check of one method
 * on one image (`explainers/sanity.ts`), as one model job. The randomized
 * copy of the served model is read from `Services.modelArtifacts` and
 * loaded on first use, inside the job (1–2 s for ResNet-50), then kept for
 * the process.
 *
 * @module
 */
import type { GraphQLError } from "graphql";
import {
  type ArtifactsLoader,
  randomizedRuntime,
  sanityCheck as compareMaps,
} from "../../explainers/sanity.ts";
import { clientError } from "../../lib/errors.ts";
import { ModelLoadError, type ModelRuntime } from "../../models/mod.ts";
import type { LumenContext } from "../context.ts";
import {
  checkRequest,
  type ExplainArgs,
  type HeatmapResult,
  heatmapResult,
} from "../explanation.ts";
import { decodeImageBytes, readImageBytes } from "../image_input.ts";
import { modelJob, refuseEarly } from "../model_job.ts";

/** Arguments of `Query.sanityCheck`. */
export interface SanityCheckArgs extends Omit<ExplainArgs, "render"> {
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

function unsupported(runtime: ModelRuntime, why: string): GraphQLError {
  return clientError(
    "UNSUPPORTED_MODEL",
    `sanityCheck is not available for the model "${runtime.name}": ${why}`,
  );
}

/** The randomized copy of `runtime`, loaded once per process. */
async function randomizedCopy(
  runtime: ModelRuntime,
  load: ArtifactsLoader,
): Promise<ModelRuntime> {
  let randomized: ModelRuntime;
  try {
    randomized = await randomizedRuntime(load, {
      labels: runtime.labels,
      preprocessing: runtime.preprocessing,
      backend: runtime.backend.name,
    });
  } catch (error) {
    if (error instanceof ModelLoadError) {
      throw unsupported(runtime, error.message);
    }
    throw error;
  }
  const [a, b] = [randomized.inputSize, runtime.inputSize];
  if (a.width !== b.width || a.height !== b.height) {
    throw unsupported(
      runtime,
      `its weights describe a ${a.width}×${a.height} input, the model takes ${b.width}×${b.height}`,
    );
  }
  return randomized;
}

/**
 * Resolves `sanityCheck(image, method, layer, classIndex, className,
 * options)`: every argument is checked before any work; `UNSUPPORTED_MODEL`
 * when the app has no `modelArtifacts` or the model cannot be randomized.
 *
 * @example
 * ```ts
 * const resolvers = { Query: { sanityCheck } };
 * ```
 */
export async function sanityCheck(
  _root: unknown,
  args: SanityCheckArgs,
  context: LumenContext,
): Promise<SanityCheckResult> {
  const { lumen } = context;
  const method = args.method ?? "gradcam";
  const checked = checkRequest(context, args, [method]);
  const { runtime } = checked;
  const load = lumen.modelArtifacts;
  if (!load) {
    throw unsupported(
      runtime,
      "the server was not given the model's weights to randomize",
    );
  }
  // Downloading is slow: not for a request the queue would refuse anyway.
  if (checked.source.kind === "url") refuseEarly(context, "sanityCheck");
  const bytes = await readImageBytes(checked.source, context);
  const result = await modelJob(context, "sanityCheck", async (signal) => {
    const { image } = await decodeImageBytes(bytes, lumen.limits);
    signal.throwIfAborted();
    const randomized = await randomizedCopy(runtime, load);
    signal.throwIfAborted();
    return compareMaps(
      { trained: runtime, randomized, registry: lumen.registry },
      {
        image,
        method,
        layer: checked.layer.name,
        classIndex: checked.classIndex,
        params: checked.params[method],
        signal,
      },
    );
  });
  return {
    method,
    layer: checked.layer.name,
    classIndex: result.classIndex,
    label: runtime.labels[result.classIndex],
    spearman: result.spearman,
    trainedMap: heatmapResult(result.trained.heatmap),
    randomizedMap: heatmapResult(result.randomized.heatmap),
  };
}
