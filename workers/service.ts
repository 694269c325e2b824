/**
 * The explanation service: what the API and job workers call to get model
 * work done, whether it runs in this process (`local.ts`: the CLI, tools,
 * tests) or in supervised worker processes (`pool.ts`: the server). It
 * admits work by cost (`scheduler.ts`), answers `OVERLOADED` when the
 * queue is full and hands back plain results.
 *
 * @module
 */
import type {
  FaithfulnessScores,
  Prediction,
  SanityResult,
} from "../explainers/mod.ts";
import type {
  ExplainHooks,
  ExplainImageRequest,
  ExplainOutcome,
  FaithfulnessRequest,
  ModelView,
  SanityImageRequest,
} from "../explain/mod.ts";
import {
  clientError,
  type HistogramSample,
  type PreprocessMode,
} from "../lib/mod.ts";
import {
  checkClassIndex,
  type EngineInfo,
  layerCatalog,
  type LayerInfo,
  type ModelRuntime,
} from "../models/mod.ts";
import type { Lane } from "./scheduler.ts";

/** A model as the API describes it: plain data, from whichever process loaded it. */
export interface ModelDescription {
  name: string;
  backend: EngineInfo;
  inputSize: { width: number; height: number };
  preprocessing: PreprocessMode;
  labels: readonly string[];
  layers: readonly LayerInfo[];
  defaultLayer: string;
  /** Whether `sanityCheck` can randomize a copy of it. */
  randomizable: boolean;
}

/** Where the default model stands (for `/ready`). */
export type ServiceState =
  | { state: "loading" }
  | { state: "ready"; model: ModelDescription }
  | { state: "failed"; error: string };

/** Counts of the model work done, summed over workers. */
export interface WorkStats {
  forward: number;
  backward: number;
  batchItems: number;
  batches: number;
  cacheHits: number;
  cacheMisses: number;
  cacheEntries: number;
  cacheBytes: number;
  tensors: number;
  tensorBytes: number;
}

/** Everything `/metrics` reads from the service. */
export interface ServiceStats {
  queue: {
    queued: Record<Lane, number>;
    running: Record<Lane, number>;
    maxQueued: number;
    slots: number;
    /** Calls started and finished since the start. */
    started: number;
    finished: number;
    rejected: number;
    dropped: number;
    /** Time calls waited for a slot, seconds. */
    waitSeconds: readonly HistogramSample[];
  };
  work: WorkStats;
  workers: {
    /** Worker processes alive (0 in-process). */
    alive: number;
    /** Restarts by reason (crash, timeout, memory). */
    restarts: Record<string, number>;
    /** Resident memory of the worker processes, bytes. */
    residentBytes: number;
    /**
     * CPU time of the worker processes, seconds: each one's as of its last
     * answer, and all of what replaced ones used (so it only grows).
     */
    cpuSeconds: number;
  };
}

/** Cancellation of one call. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** Where model work gets done. */
export interface ExplainService {
  /** Every model's name, the default first. */
  readonly modelNames: readonly string[];
  /** The default model's state. */
  state(): ServiceState;
  /** Resolves once the default model is loaded; rejects if it fails to. */
  ready(): Promise<ModelDescription>;
  /**
   * A model's description, loading it first if needed: `UNKNOWN_MODEL`;
   * `MODEL_NOT_READY` while the service starts; `MODEL_LOAD_FAILED`.
   */
  describe(
    model?: string | null,
    options?: CallOptions,
  ): Promise<ModelDescription>;
  /** The top classes of an image. */
  predict(
    request: { model: string; image: Uint8Array; top: number },
    options?: CallOptions,
  ): Promise<Prediction[]>;
  /**
   * Runs a checked explanation request (see `explain/explain_image.ts`);
   * `maxPasses` overrides the service's cost limit (jobs may cost more than
   * requests).
   */
  explain(
    request: ExplainImageRequest,
    hooks?: ExplainHooks & { maxPasses?: number },
  ): Promise<ExplainOutcome>;
  /** Scores a map's faithfulness. */
  faithfulness(
    request: FaithfulnessRequest & { model: string },
    options?: CallOptions,
  ): Promise<FaithfulnessScores>;
  /** The model-randomization sanity check of one method. */
  sanityCheck(
    request: SanityImageRequest & { model: string },
    options?: CallOptions,
  ): Promise<SanityResult>;
  /** Whether work of this many passes would be refused (`OVERLOADED`) now. */
  full(cost: number): boolean;
  /** Resolves once no call runs or waits. */
  idle(): Promise<void>;
  stats(): ServiceStats;
  /**
   * Stops taking work (`SHUTTING_DOWN`); queued and running work may finish
   * within `graceMs`, then it is cancelled. Resolves when none is left,
   * with whether any had to be cancelled.
   */
  drain(options: { graceMs: number }): Promise<{ cancelled: boolean }>;
  /** Releases models and worker processes. */
  close(): Promise<void>;
}

/**
 * The description of a loaded runtime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadModel } from "../models/mod.ts";
 * // The shipped ResNet-50's is "activation_48"; a tiny ONNX ResNet-18's:
 * const runtime = await loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 });
 * const description = describeRuntime(runtime);
 * assert.equal(description.defaultLayer, "/layer4/layer4.1/relu_1/Relu_output_0");
 * assert.equal(description.labels.length, 10);
 * runtime.dispose();
 * ```
 */
export function describeRuntime(runtime: ModelRuntime): ModelDescription {
  return {
    name: runtime.name,
    backend: runtime.backend,
    inputSize: runtime.inputSize,
    preprocessing: runtime.preprocessing,
    labels: runtime.labels,
    layers: runtime.catalog.layers,
    defaultLayer: runtime.catalog.defaultLayer,
    randomizable: false,
  };
}

/**
 * What validation needs of a model, from its description (layer lookup
 * with aliases, class checks).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // What `await service.describe("resnet50")` gives, in short:
 * const description = {
 *   name: "resnet50",
 *   backend: { name: "onnxruntime" as const, adapter: null, threads: 2, skipped: [] },
 *   inputSize: { width: 224, height: 224 },
 *   preprocessing: "caffe" as const,
 *   labels: ["tench", "goldfish"],
 *   layers: [{ name: "activation_48", kind: "Activation", shape: [7, 7, 2048], aliases: ["layer4"], explainable: true }],
 *   defaultLayer: "activation_48",
 *   randomizable: true,
 * };
 * const view = modelView(description);
 * assert.equal(view.catalog.resolve("layer4").name, "activation_48");
 * assert.equal(modelView(description), view); // built once per description
 * assert.throws(() => view.checkClass(2), { code: "BAD_USER_INPUT" });
 * ```
 */
export function modelView(description: ModelDescription): ModelView {
  let view = views.get(description);
  if (!view) {
    view = {
      name: description.name,
      labels: description.labels,
      inputSize: description.inputSize,
      catalog: layerCatalog(
        description.layers.map((l) => ({ ...l, spatial: l.explainable })),
        description.defaultLayer,
      ),
      checkClass: (classIndex) =>
        checkClassIndex(description.labels, classIndex),
    };
    views.set(description, view);
  }
  return view;
}

/**
 * Views by description: a service hands out the same description object
 * for a model every time, and building the catalog of every layer and its
 * aliases cost a ResNet-50 request 0.4 ms, twice.
 */
const views = new WeakMap<ModelDescription, ModelView>();

/**
 * The `OVERLOADED` error of a full queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => {
 *   throw overloaded(16, "heavy");
 * }, {
 *   code: "OVERLOADED",
 *   message: "The server is busy: 16 expensive requests are already waiting; retry in a moment",
 *   details: { limit: 16, lane: "heavy" },
 * });
 * ```
 */
export function overloaded(maxQueued: number, lane?: Lane): Error {
  return clientError(
    "OVERLOADED",
    `The server is busy: ${maxQueued} ${
      lane === "heavy" ? "expensive " : ""
    }requests are already waiting; retry in a moment`,
    { limit: maxQueued, ...(lane ? { lane } : {}) },
  );
}

/** The `SHUTTING_DOWN` error for work submitted while draining. */
export function shuttingDown(): Error {
  return clientError(
    "SHUTTING_DOWN",
    "The server is shutting down: retry in a moment",
  );
}
