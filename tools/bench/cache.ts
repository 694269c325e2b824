/**
 * Repeat requests on the same image (in-process, onnxruntime): another
 * method, or another class, against a Grad-CAM on a new image, in turns.
 *
 * @module
 */
import { analyzeImage, type Registry } from "../../explainers/mod.ts";
import type { ModelRuntime } from "../../models/mod.ts";
import { freshInputs } from "./images.ts";
import { alternate } from "./stats.ts";

async function explain(
  runtime: ModelRuntime,
  registry: Registry,
  input: Float32Array,
  method: string,
  classIndex?: number,
): Promise<void> {
  const analysis = await analyzeImage({ runtime, registry }, input, {
    methods: [method],
    classIndex,
  });
  await analysis.explain(method);
}

/**
 * One round: `cache.cold` (Grad-CAM, new image), `cache.method` (the same
 * image as before, activation or Grad-CAM in turn) and `cache.class`
 * (Grad-CAM of another class of the same image).
 *
 * @example
 * ```ts
 * const samples = await cacheRound(runtime, registry, { input, runs: 10 });
 * ```
 */
export async function cacheRound(
  runtime: ModelRuntime,
  registry: Registry,
  options: { input: Float32Array; runs: number },
): Promise<Record<string, number[]>> {
  const fresh = freshInputs(options.input);
  const same = fresh();
  await explain(runtime, registry, same, "gradcam");
  return await alternate({
    "cache.cold": () => explain(runtime, registry, fresh(), "gradcam"),
    "cache.method": (i) =>
      explain(runtime, registry, same, i % 2 ? "activation" : "gradcam"),
    "cache.class": (i) =>
      explain(runtime, registry, same, "gradcam", 281 + (i & 3)),
  }, { runs: options.runs, warmUp: 1 });
}
