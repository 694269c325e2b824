/**
 * BullMQ jobs as Lumen jobs: what a BullMQ job holds (`data`, state,
 * `failedReason`) mapped to a {@linkcode Job} snapshot, and the failure
 * codes carried in `failedReason` as `[CODE] message`.
 *
 * @module
 */
import type { Job as BullJob } from "bullmq";
import { type Failure, INTERNAL_MESSAGE } from "./_errors.ts";
import type { Job, JobState } from "./types.ts";

/** What a BullMQ job's `data` holds. */
export interface JobData<P> {
  readonly payload: P;
  readonly labels: readonly string[];
}

/** BullMQ's reason for a job whose workers died too often. */
export const STALLED_REASON = "job stalled more than allowable limit";

const CODED = /^\[([A-Z][A-Z0-9_]*)\] ([\s\S]*)$/;

/**
 * A failure as a `failedReason`; readable in BullMQ dashboards too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeFailure({ code: "TIMEOUT", message: "Too slow" }), "[TIMEOUT] Too slow");
 * ```
 */
export function encodeFailure(failure: Failure): string {
  return `[${failure.code}] ${failure.message}`;
}

/**
 * A `failedReason` back as a failure: ours keep their code; BullMQ's stall
 * limit is `WORKER_LOST`; anything else is `INTERNAL`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodeFailure("[TIMEOUT] Too slow", 0), { code: "TIMEOUT", message: "Too slow" });
 * assert.equal(decodeFailure(STALLED_REASON, 2).code, "WORKER_LOST");
 * assert.equal(decodeFailure("Redis said no", 0).code, "INTERNAL");
 * ```
 */
export function decodeFailure(reason: string, stalls: number): Failure {
  const match = CODED.exec(reason);
  if (match) return { code: match[1], message: match[2] };
  if (reason === STALLED_REASON) {
    return {
      code: "WORKER_LOST",
      message:
        `The job's worker stopped ${stalls} times while running it (${STALLED_REASON})`,
    };
  }
  return { code: "INTERNAL", message: INTERNAL_MESSAGE };
}

const QUEUED = new Set([
  "waiting",
  "prioritized",
  "delayed",
  "paused",
  "waiting-children",
]);

/**
 * The snapshot of a BullMQ job in BullMQ state `bullState` (from
 * `queue.getJobState`, read before the job); `undefined` for a state that
 * means "gone".
 *
 * @example
 * ```ts ignore
 * // Needs Redis: `queue` is a BullMQ Queue on it.
 * const state = await queue.getJobState(id);
 * const job = await queue.getJob(id);
 * const snapshot = job && snapshotOf(job, state);
 * ```
 */
export function snapshotOf<R>(
  job: BullJob<JobData<unknown>, R>,
  bullState: string,
): Job<R> | undefined {
  let state: JobState;
  let failure: Failure | null = null;
  if (QUEUED.has(bullState)) state = "queued";
  else if (bullState === "active") state = "running";
  else if (bullState === "completed") state = "succeeded";
  else if (bullState === "failed") {
    failure = decodeFailure(job.failedReason ?? "", job.stalledCounter ?? 0);
    state = failure.code === "CANCELLED" ? "cancelled" : "failed";
  } else return undefined;
  const progress = typeof job.progress === "number"
    ? Math.min(1, Math.max(0, job.progress))
    : 0;
  const finished = state !== "queued" && state !== "running";
  return {
    id: job.id!,
    state,
    progress: state === "succeeded" ? 1 : progress,
    createdAt: job.timestamp,
    startedAt: state === "queued" ? null : job.processedOn ?? null,
    finishedAt: finished ? job.finishedOn ?? null : null,
    error: failure?.message ?? null,
    errorCode: failure?.code ?? null,
    result: state === "succeeded" ? job.returnvalue ?? null : null,
    attempts: job.attemptsStarted ?? 0,
    labels: job.data?.labels ?? [],
  };
}
