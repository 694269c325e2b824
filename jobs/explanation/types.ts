/**
 * The explanation job's data, all plain JSON (it crosses Redis): what is
 * queued (a checked request and its image) and what is kept (maps as
 * numbers, renderings as PNG data URLs, per-method errors with codes).
 *
 * @module
 */
import type { AnalysisSummary, CheckedExplain } from "../../explain/mod.ts";

/** What an explanation job runs: checked before it was queued. */
export interface ExplanationPayload {
  /** Checked by `checkExplain` (every output asked for). */
  readonly request: CheckedExplain;
  /** The PNG or JPEG bytes, base64 (plain, no `data:` prefix). */
  readonly image: string;
}

/** A map as stored: values scaled to [0, 1], row-major. */
export interface StoredHeatmap {
  readonly width: number;
  readonly height: number;
  readonly values: readonly number[];
  readonly rawMin: number;
  readonly rawMax: number;
}

/** A method that failed on its own while the job went on. */
export interface MethodFailure {
  /** The client-error code, or `INTERNAL` (details only in the log). */
  readonly code: string;
  readonly message: string;
}

/** One method's part of a job's result. */
export interface MethodResult {
  readonly method: string;
  /** null when the method failed. */
  readonly map: StoredHeatmap | null;
  /** `data:image/png;base64,…` at the image's size; null when it failed. */
  readonly overlay: string | null;
  /** The coloured map alone, as `overlay`. */
  readonly heatmap: string | null;
  readonly explainMs: number;
  readonly renderMs: number;
  /** The method's diagnostics (often none). */
  readonly details: Readonly<Record<string, number>>;
  /** Why the method failed; null when it succeeded. */
  readonly error: MethodFailure | null;
}

/** What a succeeded explanation job keeps: the shared pass and each method. */
export interface ExplanationResult {
  readonly analysis: AnalysisSummary;
  /** In request order. */
  readonly methods: readonly MethodResult[];
}

/** The job system's settings, from flags (`config/jobs.ts`). */
export interface JobSettings {
  /** `redis://…`; null: the embedded queue in this process. */
  redisUrl: string | null;
  /** How long finished jobs and their results are kept, ms. */
  ttlMs: number;
  /** Time limit of one attempt, ms. */
  timeoutMs: number;
  /** Jobs waiting (fleet-wide on Redis); one more is `OVERLOADED`. */
  maxQueued: number;
  /** Most model passes one job may cost, estimated before it is queued. */
  maxPasses: number;
  /**
   * Times a job may start: a job whose worker process died, or whose model
   * worker crashed, is tried again until it has started this many times.
   */
  attempts: number;
  /** Redis job locks, ms: a dead worker's job moves on after about this. */
  lockMs: number;
  /** How often Redis workers look for jobs whose worker died, ms. */
  stalledCheckMs: number;
}

/** The defaults of {@linkcode JobSettings}. */
export const DEFAULT_JOB_SETTINGS: Readonly<JobSettings> = Object.freeze({
  redisUrl: null,
  ttlMs: 3_600_000,
  timeoutMs: 15 * 60_000,
  maxQueued: 100,
  maxPasses: 10_000,
  attempts: 2,
  lockMs: 30_000,
  stalledCheckMs: 30_000,
});
