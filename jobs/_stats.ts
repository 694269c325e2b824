/**
 * Counters of finished jobs and histograms of their run times, kept in
 * memory (embedded) or as fields of one Redis hash (the fleet).
 *
 * @module
 */
import type { DurationHistogram, JobState } from "./types.ts";

/** Upper bounds of the duration histograms, seconds (jobs run 1 s–15 min). */
export const DURATION_BOUNDS: readonly number[] = [
  1,
  2,
  5,
  10,
  20,
  30,
  60,
  120,
  300,
  600,
  900,
];

/** A final state. */
export type FinalState = Extract<
  JobState,
  "succeeded" | "failed" | "cancelled"
>;

/**
 * The bucket of a duration in seconds: the first bound not below it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(bucketOf(0.4), 0); // ≤ 1 s
 * assert.equal(bucketOf(3), 2); // ≤ 5 s
 * assert.equal(bucketOf(5_000), DURATION_BOUNDS.length); // +Inf
 * ```
 */
export function bucketOf(seconds: number): number {
  const index = DURATION_BOUNDS.findIndex((bound) => seconds <= bound);
  return index === -1 ? DURATION_BOUNDS.length : index;
}

/** Mutable totals: finished jobs by state, run times by label. */
export interface Totals {
  finished: Record<FinalState, number>;
  durations: Record<string, { counts: number[]; sum: number }>;
}

/**
 * Empty totals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(emptyTotals(), {
 *   finished: { succeeded: 0, failed: 0, cancelled: 0 },
 *   durations: {},
 * });
 * ```
 */
export function emptyTotals(): Totals {
  return { finished: { succeeded: 0, failed: 0, cancelled: 0 }, durations: {} };
}

/** One finished job, as the totals count it. */
export interface FinishedJob {
  /** How it ended. */
  state: FinalState;
  /** Its labels (methods); a label given twice is timed once. */
  labels: readonly string[];
  /** Its run time in seconds; timed only when it succeeded. */
  seconds: number;
}

/**
 * Counts one finished job; a succeeded one's run time (`seconds`) goes into
 * the histogram of each of its labels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const totals = emptyTotals();
 * addFinished(totals, { state: "succeeded", labels: ["gradcam"], seconds: 0.4 });
 * addFinished(totals, { state: "failed", labels: ["gradcam"], seconds: 2 }); // counted, not timed
 * assert.deepEqual(totals.finished, { succeeded: 1, failed: 1, cancelled: 0 });
 * assert.equal(totals.durations.gradcam?.counts[0], 1);
 * assert.equal(totals.durations.gradcam?.sum, 0.4);
 * ```
 */
export function addFinished(totals: Totals, job: FinishedJob): void {
  const { state, labels, seconds } = job;
  totals.finished[state]++;
  if (state !== "succeeded") return;
  for (const label of new Set(labels)) {
    const histogram = totals.durations[label] ??= {
      counts: new Array(DURATION_BOUNDS.length + 1).fill(0),
      sum: 0,
    };
    histogram.counts[bucketOf(seconds)]++;
    histogram.sum += seconds;
  }
}

/**
 * A copy of the histograms in the shape of `JobStats.durations`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const totals = emptyTotals();
 * addFinished(totals, { state: "succeeded", labels: ["gradcam"], seconds: 0.4 });
 * const { gradcam } = durationsOf(totals);
 * assert.equal(gradcam?.bounds, DURATION_BOUNDS);
 * assert.deepEqual(gradcam?.counts, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
 * assert.equal(gradcam?.sum, 0.4);
 * ```
 */
export function durationsOf(
  totals: Totals,
): Record<string, DurationHistogram> {
  const out: Record<string, DurationHistogram> = {};
  for (const [label, { counts, sum }] of Object.entries(totals.durations)) {
    out[label] = { bounds: DURATION_BOUNDS, counts: [...counts], sum };
  }
  return out;
}

/**
 * The Redis hash fields for one finished job, to add with HINCRBY (counts)
 * and HINCRBYFLOAT (`sum:` fields). Field names put the label last so that
 * labels may contain `:`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const job = { state: "succeeded", labels: ["gradcam"], seconds: 0.4 } as const;
 * assert.deepEqual(totalsFields(job), {
 *   counts: ["finished:succeeded", "bucket:0:gradcam"],
 *   sums: ["sum:gradcam"],
 * });
 * ```
 */
export function totalsFields(
  job: FinishedJob,
): { counts: string[]; sums: string[] } {
  const { state, labels, seconds } = job;
  const counts = [`finished:${state}`];
  const sums: string[] = [];
  if (state === "succeeded") {
    for (const label of new Set(labels)) {
      counts.push(`bucket:${bucketOf(seconds)}:${label}`);
      sums.push(`sum:${label}`);
    }
  }
  return { counts, sums };
}

/**
 * Totals read back from the Redis hash written through `totalsFields`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const totals = totalsFromHash({
 *   "finished:failed": "2",
 *   "bucket:0:gradcam": "1",
 *   "sum:gradcam": "0.4",
 * });
 * assert.equal(totals.finished.failed, 2);
 * assert.equal(totals.durations.gradcam?.counts[0], 1);
 * assert.equal(totals.durations.gradcam?.sum, 0.4);
 * ```
 */
export function totalsFromHash(hash: Record<string, string>): Totals {
  const totals = emptyTotals();
  const histogram = (label: string) =>
    totals.durations[label] ??= {
      counts: new Array(DURATION_BOUNDS.length + 1).fill(0),
      sum: 0,
    };
  for (const [field, raw] of Object.entries(hash)) {
    const value = Number(raw);
    const [kind, rest] = [
      field.slice(0, field.indexOf(":")),
      field.slice(field.indexOf(":") + 1),
    ];
    if (kind === "finished" && rest in totals.finished) {
      totals.finished[rest as FinalState] = value;
    } else if (kind === "sum") {
      histogram(rest).sum = value;
    } else if (kind === "bucket") {
      const index = Number(rest.slice(0, rest.indexOf(":")));
      const label = rest.slice(rest.indexOf(":") + 1);
      if (index >= 0 && index <= DURATION_BOUNDS.length) {
        histogram(label).counts[index] = value;
      }
    }
  }
  return totals;
}
