/**
 * The models a process serves, from their specs: each loads with its
 * labels and preprocessing on the chosen engine, and TF.js models can also
 * load a copy with their top randomized (for the sanity check).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { readLabels } from "./labels.ts";
import {
  loadModel,
  type LoadOptions,
  type ModelSpec,
  resnet50Labels,
} from "./load.ts";
import type { ModelEntry } from "./model_set.ts";
import {
  type ArtifactsLoader,
  randomizedRuntime,
  resnet50Artifacts,
} from "./randomize.ts";
import { fileHandler } from "./tfjs/io.ts";

/** Options of {@linkcode modelEntries}: how every model loads. */
export type EntryOptions = Pick<
  LoadOptions,
  | "backend"
  | "threads"
  | "batchSize"
  | "batchBytes"
  | "log"
  | "warmUp"
  | "weightsFolder"
>;

/**
 * The loaders of the models `specs` name, for a `ModelSet`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHIPPED_MODEL } from "./load.ts";
 * import { createModelSet } from "./model_set.ts";
 * const models = createModelSet(modelEntries([SHIPPED_MODEL], { backend: "auto" }));
 * assert.deepEqual(models.names, ["resnet50"]);
 * assert.deepEqual(models.loaded(), []); // each loads on first use
 * ```
 */
export function modelEntries(
  specs: readonly ModelSpec[],
  options: EntryOptions = {},
): ModelEntry[] {
  return specs.map((spec) => {
    const load = async (handler?: tf.io.IOHandler) => {
      const labels = spec.labels !== null
        ? readLabels(await Deno.readTextFile(spec.labels))
        : spec.path === null
        ? await resnet50Labels()
        : undefined;
      return await loadModel({
        ...options,
        model: handler ?? spec.path ?? undefined,
        labels,
        preprocessing: spec.preprocess ?? undefined,
        defaultLayer: spec.layer,
        name: spec.name,
        // A randomized copy is made once and thrown away: no file for it.
        ...(handler ? { warmUp: false, weightsFolder: null } : {}),
      });
    };
    const artifacts: ArtifactsLoader = spec.path === null
      ? resnet50Artifacts
      : () => fileHandler(spec.path!).load!();
    return {
      name: spec.name,
      load: () => load(),
      randomized: () => randomizedRuntime(artifacts, { loader: load }),
    };
  });
}
