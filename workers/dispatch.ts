/**
 * The explanation service over an executor: model descriptions, the cost
 * of each request (refused over `maxPasses`), admission by cost through the
 * scheduler's lanes (`OVERLOADED` when full), draining for shutdown. The
 * executor decides where calls run: in this process (`local.ts`) or in
 * worker processes (`pool.ts`).
 *
 * @module
 */
import {
  checkCost,
  explainCost,
  type ExplainHooks,
  faithfulnessCost,
} from "../explain/mod.ts";
import type { Registry } from "../explainers/mod.ts";
import { clientError, Histograms, LATENCY_BOUNDS } from "../lib/mod.ts";
import type { Call, CallResults } from "./calls.ts";
import {
  createScheduler,
  type Lane,
  QueueFullError,
  type SchedulerOptions,
  untilAborted,
} from "./scheduler.ts";
import {
  type ExplainService,
  type ModelDescription,
  modelView,
  overloaded,
  type ServiceState,
  type ServiceStats,
  shuttingDown,
  type WorkStats,
} from "./service.ts";

/** Runs calls on slots: in this process, or in worker processes. */
export interface Executor {
  /** Slots calls can run on at once (one expensive and one cheap call each). */
  readonly slots: number;
  /** Resolves with the default model's description once it is loaded. */
  readonly ready: Promise<ModelDescription>;
  /**
   * Runs a call on a slot; settles when the work has stopped (after its
   * signal aborted, at the work's next check, or when the executor stopped
   * it by force).
   */
  run<K extends Call["kind"]>(
    slot: number,
    call: Extract<Call, { kind: K }>,
    hooks: ExplainHooks & { signal: AbortSignal; lane: Lane },
  ): Promise<CallResults[K]>;
  workStats(): WorkStats;
  workerStats(): ServiceStats["workers"];
  close(): Promise<void>;
}

/** Options of {@linkcode createService}. */
export interface ServiceOptions extends Omit<SchedulerOptions, "slots"> {
  /** Every model's name, the default first. */
  modelNames: readonly string[];
  registry: Registry;
  /** Most passes one request may cost; more is `BAD_USER_INPUT`. @default 2500 */
  maxPasses?: number;
}

/** The default of {@linkcode ServiceOptions.maxPasses}. */
export const DEFAULT_MAX_PASSES = 2500;

/** What the sanity check costs beyond the method: loading a randomized copy. */
const SANITY_COST = 20;

/**
 * Builds the service over `executor`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { createModelSet, loadModel } from "../models/mod.ts";
 * import { localExecutor } from "./local.ts";
 * // A tiny ONNX ResNet-18 (random weights, 64×64 input, 10 classes) as the model.
 * const models = createModelSet([{
 *   name: "resnet18",
 *   load: () => loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 }),
 * }]);
 * const registry = createRegistry();
 * const deps = { models, registry, maxPixels: 40_000_000 };
 * const service = createService(localExecutor(deps), {
 *   modelNames: ["resnet18"], registry, maxQueued: 16,
 * });
 * const model = await service.ready();
 * assert.equal(model.name, "resnet18");
 * const image = await Deno.readFile("tests/fixtures/chelsea.png");
 * assert.equal((await service.predict({ model: "resnet18", image, top: 3 })).length, 3);
 * assert.equal(service.stats().queue.finished, 1);
 * await service.close();
 * ```
 */
export function createService(
  executor: Executor,
  options: ServiceOptions,
): ExplainService {
  const { registry, modelNames } = options;
  const maxPasses = options.maxPasses ?? DEFAULT_MAX_PASSES;
  const waitSeconds = new Histograms(LATENCY_BOUNDS);
  const scheduler = createScheduler({
    ...options,
    slots: executor.slots,
    onStart(lane, waitedMs) {
      waitSeconds.observe({}, waitedMs / 1000);
      options.onStart?.(lane, waitedMs);
    },
  });
  const cancel = new AbortController();
  let stopping = false;
  let state: ServiceState = { state: "loading" };
  executor.ready.then(
    (model) => state = { state: "ready", model },
    (error) => state = { state: "failed", error: (error as Error).message },
  );
  const descriptions = new Map<string, Promise<ModelDescription>>();

  /** Runs a call through the scheduler; cancelled by shutdown too. */
  const schedule = async <K extends Call["kind"]>(
    cost: number,
    call: Extract<Call, { kind: K }>,
    hooks: ExplainHooks = {},
  ): Promise<CallResults[K]> => {
    if (stopping) throw shuttingDown();
    const signal = hooks.signal
      ? AbortSignal.any([hooks.signal, cancel.signal])
      : cancel.signal;
    try {
      // The caller hears at once when its signal aborts; the task keeps its
      // slot until the work has really stopped.
      return await untilAborted(
        scheduler.run(
          cost,
          (slot, s) =>
            executor.run<K>(slot, call, {
              ...hooks,
              signal: s,
              lane: scheduler.laneOf(cost),
            }),
          { signal },
        ),
        signal,
      );
    } catch (error) {
      if (error instanceof QueueFullError) {
        throw overloaded(error.maxQueued, error.lane);
      }
      throw error;
    }
  };

  const describe = (
    model: string | null | undefined,
    signal?: AbortSignal,
  ): Promise<ModelDescription> => {
    const name = model ?? modelNames[0];
    if (!modelNames.includes(name)) {
      return Promise.reject(clientError(
        "UNKNOWN_MODEL",
        `Unknown model "${name}": the models are ${
          modelNames.map((n) => `"${n}"`).join(", ")
        }`,
        { valid: modelNames },
      ));
    }
    if (state.state === "loading") {
      return Promise.reject(clientError(
        "MODEL_NOT_READY",
        "The model is still loading: retry in a few seconds (GET /ready answers 200 when it is ready)",
      ));
    }
    if (state.state === "failed") {
      return Promise.reject(clientError(
        "MODEL_LOAD_FAILED",
        `The model failed to load: ${state.error}`,
      ));
    }
    if (name === modelNames[0]) return Promise.resolve(state.model);
    let found = descriptions.get(name);
    if (!found) {
      found = schedule(1, { kind: "describe", model: name }, { signal });
      descriptions.set(name, found);
      const pending = found;
      pending.catch(() => {
        if (descriptions.get(name) === pending) descriptions.delete(name);
      });
    }
    return found;
  };

  return {
    modelNames,
    state: () => state,
    ready: () =>
      executor.ready.catch((error) => {
        throw clientError(
          "MODEL_LOAD_FAILED",
          `The model failed to load: ${(error as Error).message ?? error}`,
        );
      }),
    describe: (model, callOptions) => describe(model, callOptions?.signal),
    predict: (request, callOptions) =>
      schedule(1, { kind: "predict", ...request }, callOptions),
    async explain(request, hooks = {}) {
      const { maxPasses: limit = maxPasses, ...rest } = hooks;
      const view = modelView(await describe(request.model, rest.signal));
      const cost = checkCost(
        explainCost({ model: view, registry }, request),
        limit,
      );
      return await schedule(cost, { kind: "explain", request }, rest);
    },
    faithfulness(request, callOptions) {
      const cost = checkCost(faithfulnessCost(request.steps), maxPasses);
      return schedule(cost, { kind: "faithfulness", request }, callOptions);
    },
    async sanityCheck(request, callOptions) {
      const view = modelView(
        await describe(request.model, callOptions?.signal),
      );
      const method = explainCost({ model: view, registry }, {
        methods: [request.method],
        params: { [request.method]: request.params },
        layer: request.layer,
      });
      const cost = checkCost(SANITY_COST + 2 * method, maxPasses);
      return await schedule(cost, { kind: "sanity", request }, callOptions);
    },
    full: (cost) => stopping || scheduler.full(cost),
    idle: () => scheduler.idle(),
    stats: () => ({
      queue: {
        queued: {
          light: scheduler.queued("light"),
          heavy: scheduler.queued("heavy"),
        },
        running: {
          light: scheduler.running("light"),
          heavy: scheduler.running("heavy"),
        },
        maxQueued: scheduler.maxQueued,
        slots: scheduler.slots,
        started: scheduler.stats.started,
        finished: scheduler.stats.finished,
        rejected: scheduler.stats.rejected,
        dropped: scheduler.stats.dropped,
        waitSeconds: waitSeconds.samples(),
      },
      work: executor.workStats(),
      workers: executor.workerStats(),
    }),
    async drain({ graceMs }) {
      stopping = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const finished = await Promise.race([
        scheduler.idle().then(() => true as const),
        graceOver,
      ]);
      clearTimeout(timer);
      if (finished) return { cancelled: false };
      cancel.abort(shuttingDown());
      await scheduler.idle();
      return { cancelled: true };
    },
    close: () => executor.close(),
  };
}
