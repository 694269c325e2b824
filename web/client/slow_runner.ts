/**
 * How the page runs one slow method (scorecam, occlusion…): on its own,
 * outside the fast request, with progress as it goes. Everything the page
 * knows about this is the {@linkcode SlowRunner} type; the runner itself
 * (today: a job, see `job_runner.ts`) is chosen by the one line that makes
 * it in `main.ts`.
 *
 * @module
 */
import type { Explanation, MapSettings } from "./api.ts";
import type { Problem } from "./messages.ts";
import type { ProgressState } from "./progress.ts";

/** What a slow run reports, as it happens. */
export interface SlowEvents {
  /** Waiting on the server for a free worker (another job runs). */
  onQueued?(): void;
  /** The fraction done and the time left, after each step the server reports. */
  onProgress(progress: ProgressState): void;
  /** The method's explanation, once, at the end. */
  onExplanation(explanation: Explanation): void;
  /** The run failed; the reason, in the page's words. */
  onProblems(problems: Problem[]): void;
  /** Always last, once, unless the run was cancelled. */
  onDone(): void;
}

/**
 * Runs one slow method on an image; returns a function that cancels the
 * run (the server stops the work; no events follow).
 */
export type SlowRunner = (
  file: Blob,
  method: string,
  settings: MapSettings & { events: SlowEvents },
) => () => void;
