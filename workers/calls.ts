/**
 * The units of model work an executor runs, in this process or in a worker
 * process: each is plain data in, plain data out, so it can cross a
 * process boundary. {@linkcode executeCall} runs one against the models of
 * this process.
 *
 * @module
 */
import type {
  FaithfulnessScores,
  Prediction,
  Registry,
  SanityResult,
} from "../explainers/mod.ts";
import {
  checkSanity,
  type ExplainHooks,
  explainImage,
  type ExplainImageRequest,
  type ExplainOutcome,
  type FaithfulnessRequest,
  predictImage,
  type SanityImageRequest,
  scoreFaithfulness,
} from "../explain/mod.ts";
import type { Renderer } from "../lib/mod.ts";
import type { ModelSet } from "../models/mod.ts";
import { describeRuntime, type ModelDescription } from "./service.ts";

/** One unit of model work. */
export type Call =
  | { kind: "describe"; model: string | null }
  | { kind: "predict"; model: string; image: Uint8Array; top: number }
  | { kind: "explain"; request: ExplainImageRequest }
  | { kind: "faithfulness"; request: FaithfulnessRequest & { model: string } }
  | { kind: "sanity"; request: SanityImageRequest & { model: string } };

/** What each kind of call resolves with. */
export interface CallResults {
  describe: ModelDescription;
  predict: Prediction[];
  explain: ExplainOutcome;
  faithfulness: FaithfulnessScores;
  sanity: SanityResult;
}

/** What calls run against. */
export interface CallDeps {
  models: ModelSet;
  registry: Registry;
  /** Largest decoded image, width × height. */
  maxPixels: number;
  /** Where explanations' PNGs are rendered. @default this thread */
  renderer?: Renderer | undefined;
}

/**
 * Runs one call against the models of this process; `hooks` carry the
 * signal and an explanation's events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { createModelSet, loadModel } from "../models/mod.ts";
 * // A tiny ONNX ResNet-18 (random weights, 64×64 input, 10 classes) as the model.
 * const models = createModelSet([{
 *   name: "resnet18",
 *   load: () => loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 }),
 * }]);
 * const deps = { models, registry: createRegistry(), maxPixels: 40_000_000 };
 * const image = await Deno.readFile("tests/fixtures/chelsea.png");
 * const top = await executeCall(deps, { kind: "predict", model: "resnet18", image, top: 5 });
 * assert.equal(top.length, 5);
 * assert.equal(top[0]?.label, `class_${top[0]?.classIndex}`); // the file has no labels
 * models.dispose();
 * ```
 */
export function executeCall<K extends Call["kind"]>(
  deps: CallDeps,
  call: Extract<Call, { kind: K }>,
  hooks: ExplainHooks = {},
): Promise<CallResults[K]> {
  return run(deps, call, hooks) as Promise<CallResults[K]>;
}

function run(
  deps: CallDeps,
  call: Call,
  hooks: ExplainHooks,
): Promise<CallResults[Call["kind"]]> {
  const { models, registry, maxPixels, renderer } = deps;
  const signal = hooks.signal;
  switch (call.kind) {
    case "describe": {
      // The name clients use is the entry's, whatever the file calls itself.
      const { name, randomized } = models.entry(call.model);
      return models.use(
        call.model,
        (runtime) =>
          Promise.resolve({
            ...describeRuntime(runtime),
            name,
            randomizable: randomized !== undefined,
          }),
      );
    }
    case "predict":
      return models.use(call.model, (runtime) =>
        predictImage(
          { runtime, maxPixels },
          { image: call.image, top: call.top },
          { signal },
        ));
    case "explain":
      return models.use(
        call.request.model,
        (runtime) =>
          explainImage(
            { runtime, registry, maxPixels, renderer },
            call.request,
            hooks,
          ),
      );
    case "faithfulness":
      return models.use(
        call.request.model,
        (runtime) =>
          scoreFaithfulness({ runtime, maxPixels }, call.request, {
            signal,
            ...(hooks.pause ? { pause: hooks.pause } : {}),
            ...(hooks.onProgress
              ? {
                onProgress: (f: number) => hooks.onProgress!("faithfulness", f),
              }
              : {}),
          }),
      );
    case "sanity":
      return models.use(call.request.model, (runtime) =>
        checkSanity(
          {
            runtime,
            registry,
            maxPixels,
            randomized: models.entry(call.request.model).randomized ?? null,
          },
          call.request,
          { signal },
        ));
  }
}
