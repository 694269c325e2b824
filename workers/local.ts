/**
 * Model work in this process: the executor the CLI, the tools and in-process
 * tests use, and the one a worker process runs its calls with. Model work
 * on this thread blocks it for a whole batch: a server runs its model in
 * worker processes instead (`pool.ts`).
 *
 * @module
 */
import type { ExplainService } from "./service.ts";
import { type CallDeps, executeCall } from "./calls.ts";
import { createPriorityGate } from "./priority.ts";
import {
  createService,
  type Executor,
  type ServiceOptions,
} from "./dispatch.ts";
import type { WorkStats } from "./service.ts";
import { type ModelSet, tensorMemory } from "../models/mod.ts";

/**
 * Counts of the model work of a process's loaded models.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createModelSet, loadModel } from "../models/mod.ts";
 * // A tiny ONNX ResNet-18 (random weights, 64×64 input, 10 classes) as the model.
 * const models = createModelSet([{
 *   name: "resnet18",
 *   load: () => loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 }),
 * }]);
 * assert.equal(workStatsOf(models).forward, 0); // nothing loaded yet
 * await models.use(null, (runtime) => runtime.run(new Float32Array(64 * 64 * 3)));
 * assert.equal(workStatsOf(models).forward, 1); // shared passes run so far
 * models.dispose();
 * ```
 */
export function workStatsOf(models: ModelSet): WorkStats {
  const stats: WorkStats = {
    forward: 0,
    backward: 0,
    batchItems: 0,
    batches: 0,
    cacheHits: 0,
    cacheMisses: 0,
    cacheEntries: 0,
    cacheBytes: 0,
    tensors: 0,
    tensorBytes: 0,
  };
  for (const runtime of models.runtimes()) {
    stats.forward += runtime.counters.forward;
    stats.backward += runtime.counters.backward;
    stats.batchItems += runtime.counters.batchItems;
    stats.batches += runtime.counters.batches;
    stats.cacheHits += runtime.cache.stats.hits;
    stats.cacheMisses += runtime.cache.stats.misses;
    stats.cacheEntries += runtime.cache.size;
    stats.cacheBytes += runtime.cache.bytes;
  }
  const memory = tensorMemory();
  stats.tensors = memory.tensors;
  stats.tensorBytes = memory.bytes;
  return stats;
}

/**
 * An executor that runs calls in this process, one slot.
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
 * const executor = localExecutor({ models, registry: createRegistry(), maxPixels: 40_000_000 });
 * assert.equal(executor.slots, 1);
 * assert.equal((await executor.ready).name, "resnet18"); // the default model, loaded
 * assert.equal(executor.workerStats().alive, 0); // no worker processes
 * await executor.close();
 * ```
 */
export function localExecutor(deps: CallDeps): Executor {
  const gate = createPriorityGate();
  const ready = executeCall(deps, { kind: "describe", model: null });
  ready.catch(() => {});
  return {
    slots: 1,
    ready,
    run: (_slot, call, { lane, ...hooks }) =>
      gate.run(
        lane,
        (pause) => executeCall(deps, call, pause ? { ...hooks, pause } : hooks),
      ),
    workStats: () => workStatsOf(deps.models),
    workerStats: () => ({
      alive: 0,
      restarts: {},
      residentBytes: 0,
      cpuSeconds: 0,
    }),
    close() {
      deps.models.dispose();
      return Promise.resolve();
    },
  };
}

/**
 * The explanation service running everything in this process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { createModelSet, loadModel } from "../models/mod.ts";
 * // The CLI's: [{ name: "resnet50", load: () => loadModel() }]. Here a tiny ONNX
 * // ResNet-18 (random weights, 64×64 input).
 * const service = createLocalService({
 *   models: createModelSet([{
 *     name: "resnet18",
 *     load: () => loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 }),
 *   }]),
 *   registry: createRegistry(),
 * });
 * assert.deepEqual(service.modelNames, ["resnet18"]);
 * await assert.rejects(service.describe(), { code: "MODEL_NOT_READY" }); // still loading
 * assert.equal((await service.ready()).name, "resnet18");
 * await service.close();
 * ```
 */
export function createLocalService(
  options: Omit<ServiceOptions, "modelNames"> & Omit<CallDeps, "maxPixels"> & {
    maxPixels?: number;
  },
): ExplainService {
  const executor = localExecutor({
    models: options.models,
    registry: options.registry,
    maxPixels: options.maxPixels ?? 40_000_000,
  });
  return createService(executor, {
    ...options,
    modelNames: options.models.names,
  });
}
