/**
 * The explanation job's runner: one call to the explanation service (the
 * same use case `explain` runs, with the job's own cost limit), progress as
 * one rising fraction over all the job's methods, and the outcome turned
 * into plain JSON. Model work runs in the service's worker processes, so
 * the job worker's event loop stays free to renew its Redis locks.
 *
 * @module
 */
import {
  explainCost,
  type ExplainOutcome,
  type MethodOutcome,
} from "../../explain/mod.ts";
import type { Registry } from "../../explainers/mod.ts";
import {
  decodeBase64Image,
  isClientError,
  type Logger,
  toDataUrl,
} from "../../lib/mod.ts";
import { type ExplainService, modelView } from "../../workers/mod.ts";
import { INTERNAL_MESSAGE } from "../_errors.ts";
import type { JobRunner } from "../types.ts";
import type {
  ExplanationPayload,
  ExplanationResult,
  MethodResult,
} from "./types.ts";

/** Options of {@linkcode explanationRunner}. */
export interface RunnerOptions {
  /** The methods (for their costs, which weigh progress). */
  registry: Registry;
  /** Most model passes one job may cost. @default 10_000 */
  maxPasses?: number;
  /**
   * Times the model work may start: a `MODEL_CRASHED` (the model worker
   * died, a fresh one is starting) is tried again until then.
   * @default 2
   */
  attempts?: number;
  /**
   * Wait before asking again when the service's queue is full (jobs share
   * the service with synchronous requests: a full queue means "later").
   * @default 1_000
   */
  busyRetryMs?: number;
  /** Where each job's start and end, and method failures that are bugs, are logged. @default none */
  log?: Logger;
}

/** Weights of the job's parts for progress: the shared pass, each method. */
interface Weights {
  shared: number;
  methods: Map<string, number>;
  total: number;
}

function weightsOf(
  request: ExplanationPayload["request"],
  registry: Registry,
  model: Parameters<typeof explainCost>[0]["model"],
): Weights {
  const methods = new Map<string, number>();
  let extra = 0;
  for (const method of request.methods) {
    const base = registry.get(method).needsGradients ? 3 : 1;
    const cost = explainCost({ model, registry }, {
      methods: [method],
      params: { [method]: request.params[method] },
      layer: request.layer,
    });
    // A fast method still counts: its end is a step the client sees.
    const weight = Math.max(1, cost - base);
    methods.set(method, weight);
    extra += weight;
  }
  const shared = Math.max(1, explainCost({ model, registry }, request) - extra);
  return { shared, methods, total: shared + extra };
}

/** Progress over the whole job: the shared pass, then method after method. */
function jobProgress(weights: Weights, report: (fraction: number) => void) {
  let done = 0;
  const finished = new Set<string>();
  const send = (value: number) => report(Math.min(1, value / weights.total));
  return {
    analysed() {
      done = weights.shared;
      send(done);
    },
    method(method: string, fraction: number) {
      if (finished.has(method)) return;
      send(done + (weights.methods.get(method) ?? 0) * fraction);
    },
    finished(method: string) {
      if (finished.has(method)) return;
      finished.add(method);
      done += weights.methods.get(method) ?? 0;
      send(done);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * One method's outcome as stored. A failure that is a bug is stored as
 * `INTERNAL` with a generic message; `log` gets the real one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError } from "../../lib/mod.ts";
 * // One entry of `(await service.explain(request)).methods`:
 * const stored = methodResult({
 *   method: "gradcam",
 *   map: {
 *     method: "gradcam",
 *     heatmap: { width: 2, height: 1, values: new Float32Array([0, 1]), rawMin: -1, rawMax: 3 },
 *     explainMs: 12,
 *   },
 *   rendering: { method: "gradcam", overlay: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), renderMs: 2 },
 * });
 * assert.deepEqual(stored.map?.values, [0, 1]); // plain numbers: JSON
 * assert.equal(stored.overlay, "data:image/png;base64,iVBORw==");
 * const failed = methodResult({ method: "scorecam", error: clientError("TIMEOUT", "Too slow") });
 * assert.deepEqual(failed.error, { code: "TIMEOUT", message: "Too slow" });
 * ```
 */
export function methodResult(
  outcome: MethodOutcome,
  log: Logger = () => {},
): MethodResult {
  const { map, rendering, error } = outcome;
  if (error || !map) {
    if (error && !isClientError(error)) {
      log("error", "job method failed", { method: outcome.method, error });
    }
    return {
      method: outcome.method,
      map: null,
      overlay: null,
      heatmap: null,
      explainMs: 0,
      renderMs: 0,
      details: {},
      error: isClientError(error)
        ? { code: error.code, message: error.message }
        : { code: "INTERNAL", message: INTERNAL_MESSAGE },
    };
  }
  const { heatmap } = map;
  return {
    method: outcome.method,
    map: {
      width: heatmap.width,
      height: heatmap.height,
      values: Array.from(heatmap.values),
      rawMin: heatmap.rawMin,
      rawMax: heatmap.rawMax,
    },
    overlay: rendering?.overlay ? toDataUrl(rendering.overlay) : null,
    heatmap: rendering?.heatmap ? toDataUrl(rendering.heatmap) : null,
    explainMs: map.explainMs,
    renderMs: rendering?.renderMs ?? 0,
    details: { ...map.details },
    error: null,
  };
}

/**
 * The stored result of an outcome. When every method failed the job fails
 * too, with the first method's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError } from "../../lib/mod.ts";
 * // What `await service.explain(request)` gives:
 * const analysis = {
 *   model: "resnet50", layer: "activation_48", classIndex: 281, label: "tabby",
 *   probability: 0.9, predictions: [], image: { width: 2, height: 1 },
 *   decodeMs: 1, forwardMs: 30,
 * };
 * const gradcam = {
 *   method: "gradcam",
 *   map: {
 *     method: "gradcam",
 *     heatmap: { width: 2, height: 1, values: new Float32Array([0, 1]), rawMin: 0, rawMax: 3 },
 *     explainMs: 12,
 *   },
 * };
 * const scorecam = { method: "scorecam", error: clientError("TIMEOUT", "Too slow") };
 * const result = explanationResult({ analysis, methods: [gradcam, scorecam] });
 * assert.equal(result.methods[0]?.map?.values.length, 2); // width * height
 * assert.equal(result.methods[1]?.error?.code, "TIMEOUT"); // failed alone
 * // Every method failed: the job fails with the first one's error.
 * assert.throws(() => explanationResult({ analysis, methods: [scorecam] }), { code: "TIMEOUT" });
 * ```
 */
export function explanationResult(
  outcome: ExplainOutcome,
  log: Logger = () => {},
): ExplanationResult {
  const failed = outcome.methods.find((m) => m.error);
  if (failed && outcome.methods.every((m) => m.error)) throw failed.error;
  return {
    analysis: outcome.analysis,
    methods: outcome.methods.map((m) => methodResult(m, log)),
  };
}

/**
 * The runner of explanation jobs over `service`: the embedded queue's
 * worker passes the server's own service (jobs and requests share its cost
 * lanes), `deno task worker` its own worker pool.
 *
 * @example
 * ```ts ignore
 * // `service`: a loaded model's (the server's own, or a worker pool).
 * const jobs = embeddedJobs<ExplanationPayload, ExplanationResult>();
 * jobs.runWorker({ runner: explanationRunner(service, { registry, maxPasses: 10_000 }) });
 * ```
 */
export function explanationRunner(
  service: ExplainService,
  options: RunnerOptions,
): JobRunner<ExplanationPayload, ExplanationResult> {
  const attempts = options.attempts ?? 2;
  const busyRetryMs = options.busyRetryMs ?? 1_000;
  const log = options.log ?? (() => {});
  const run: JobRunner<ExplanationPayload, ExplanationResult> = async (
    { request, image },
    { signal, onProgress },
  ) => {
    await service.ready();
    const model = modelView(await service.describe(request.model, { signal }));
    const weights = weightsOf(request, options.registry, model);
    const bytes = decodeBase64Image(image, Number.MAX_SAFE_INTEGER);
    for (let attempt = 1;; attempt++) {
      // Counted afresh on a retry; the job's progress itself never drops.
      const progress = jobProgress(weights, onProgress);
      try {
        const outcome = await service.explain({ ...request, image: bytes }, {
          signal,
          maxPasses: options.maxPasses ?? 10_000,
          onAnalysis: () => progress.analysed(),
          onProgress: (method, fraction) => progress.method(method, fraction),
          onMap: (map) => progress.finished(map.method),
          onMethodError: (method) => progress.finished(method),
        });
        return explanationResult(outcome, log);
      } catch (error) {
        if (signal.aborted || !isClientError(error)) throw error;
        if (error.code === "OVERLOADED") {
          attempt--;
          await sleep(busyRetryMs, signal);
        } else if (error.code !== "MODEL_CRASHED" || attempt >= attempts) {
          throw error;
        }
      }
    }
  };
  return async (payload, hooks) => {
    const start = performance.now();
    const fields = { jobId: hooks.id, methods: payload.request.methods };
    log("info", "job started", fields);
    let outcome = "succeeded";
    try {
      return await run(payload, hooks);
    } catch (error) {
      outcome = hooks.signal.aborted
        ? "stopped"
        : isClientError(error)
        ? error.code
        : "INTERNAL";
      throw error;
    } finally {
      const ms = Math.round(performance.now() - start);
      log("info", "job ended", { ...fields, outcome, ms });
    }
  };
}
