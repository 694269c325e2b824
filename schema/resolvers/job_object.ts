/**
 * The `Job` GraphQL type from a stored job, and what every job field
 * shares: the job queue (or `UNAVAILABLE` when the server has none).
 * `Job.results` are `Explanation` objects read from the stored JSON: the
 * same fields as `explain` gives.
 *
 * @module
 */
import type { Prediction } from "../../explainers/mod.ts";
import type {
  ExplanationResult as StoredResult,
  MethodResult,
} from "../../jobs/explanation/mod.ts";
import type { Job, JobState } from "../../jobs/mod.ts";
import { clientError } from "../../lib/mod.ts";
import type { JobsService, LumenContext } from "../context.ts";
import type { HeatmapResult } from "../explanation.ts";

/** A job result's `Explanation`: plain values (all computed already). */
export interface StoredExplanation {
  method: string;
  layer: string;
  classIndex: number;
  label: string;
  probability: number;
  predictions: readonly Prediction[];
  map: HeatmapResult;
  overlay: string;
  heatmap: string;
  timings: { decode: number; forward: number; explain: number; render: number };
  details: { name: string; value: number }[];
  faithfulness: () => never;
}

/** The `Job` GraphQL type. */
export interface JobResult {
  id: string;
  state: JobState;
  progress: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  errorCode: string | null;
  methods: readonly string[];
  attempts: number;
  results: () => StoredExplanation[] | null;
  methodErrors: () => { method: string; code: string; message: string }[];
}

/**
 * The job service, or `UNAVAILABLE` when this server runs no job queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execute, parse } from "graphql";
 * import { lumenSchema } from "../schema.ts";
 * // In a resolver: `const job = await jobsOf(context).queue.get(args.id);`
 * // A server without a job queue answers every job field UNAVAILABLE:
 * const result = await execute({
 *   schema: lumenSchema(),
 *   document: parse(`{ job(id: "V1StGXR8_Z5jdHi6B-myTw") { state } }`),
 *   contextValue: { lumen: { jobs: null } },
 * });
 * assert.equal(result.errors?.[0]?.message, "This server runs no explanation jobs");
 * ```
 */
export function jobsOf(context: LumenContext): JobsService {
  const { jobs } = context.lumen;
  if (!jobs) {
    throw clientError("UNAVAILABLE", "This server runs no explanation jobs");
  }
  return jobs;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function noFaithfulness(): never {
  throw clientError(
    "BAD_USER_INPUT",
    "faithfulness is not kept with job results: ask explain for it, with the same arguments",
  );
}

function explanationOf(
  stored: StoredResult,
  method: MethodResult,
): StoredExplanation {
  const { analysis } = stored;
  return {
    method: method.method,
    layer: analysis.layer,
    classIndex: analysis.classIndex,
    label: analysis.label,
    probability: analysis.probability,
    predictions: analysis.predictions,
    map: { ...method.map!, values: [...method.map!.values] },
    overlay: method.overlay ?? "",
    heatmap: method.heatmap ?? "",
    timings: {
      decode: analysis.decodeMs,
      forward: analysis.forwardMs,
      explain: method.explainMs,
      render: method.renderMs,
    },
    details: Object.entries(method.details).map(([name, value]) => ({
      name,
      value,
    })),
    faithfulness: noFaithfulness,
  };
}

/**
 * The `Job` of a stored job.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A stored job, as `await jobs.queue.get(id)` gives it:
 * const job = jobObject({
 *   id: "V1StGXR8_Z5jdHi6B-myTw", state: "running", progress: 0.25,
 *   createdAt: 0, startedAt: 1_000, finishedAt: null, error: null,
 *   errorCode: null, result: null, attempts: 1, labels: ["scorecam"],
 * });
 * assert.equal(job.state, "running");
 * assert.equal(job.startedAt, "1970-01-01T00:00:01.000Z"); // ISO 8601
 * assert.deepEqual(job.methods, ["scorecam"]);
 * assert.equal(job.results(), null); // not succeeded yet
 * ```
 */
export function jobObject(job: Job<StoredResult>): JobResult {
  const { result } = job;
  return {
    id: job.id,
    state: job.state,
    progress: job.progress,
    createdAt: iso(job.createdAt)!,
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    error: job.error,
    errorCode: job.errorCode,
    methods: job.labels,
    attempts: job.attempts,
    results: () =>
      result &&
      result.methods.filter((m) => !m.error).map((m) =>
        explanationOf(result, m)
      ),
    methodErrors: () =>
      (result?.methods ?? []).filter((m) => m.error).map((m) => ({
        method: m.method,
        ...m.error!,
      })),
  };
}
