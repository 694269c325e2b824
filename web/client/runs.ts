/**
 * Which requests the page sends, and when: the fast methods together in one
 * request (they share one model pass, and bring the top-5), then the slow
 * ones one at a time, each on its own (a job, see `job_runner.ts`), only
 * once no fast request is in flight, so a slow method never holds up a fast
 * one. Starting over or dropping a slow method cancels its run.
 * No DOM: what happens is reported through {@linkcode RunEvents}.
 *
 * @module
 */
import type { Api, Explanation, MapSettings, Prediction } from "./api.ts";
import type { Problem } from "./messages.ts";
import type { ProgressState } from "./progress.ts";
import type { SlowRunner } from "./slow_runner.ts";

/** Where a method stands, for its card. */
export type Phase =
  | { kind: "fast" }
  | { kind: "waiting"; text: string }
  | { kind: "running"; progress: ProgressState | null }
  | { kind: "failed"; text: string };

/** What the runs report. */
export interface RunEvents {
  /** The top-5, when asked for. */
  predictions(predictions: Prediction[]): void;
  explanation(explanation: Explanation): void;
  /** A method's new phase; null once it is no longer pending (done or dropped). */
  phase(method: string, phase: Phase | null): void;
  /** Problems of a whole fast request (the image, the settings…). */
  problems(problems: Problem[]): void;
}

/** The page's runs for one image, layer and class. */
export interface Runs {
  /**
   * Starts over (a new image, layer or class): cancels every request.
   * `predictions`: whether the next fast request asks for the top-5.
   */
  start(file: Blob, settings: MapSettings & { predictions: boolean }): void;
  /**
   * Computes these methods (pass those without a result): sends the new
   * ones, keeps those in flight, drops slow ones no longer wanted.
   */
  want(methods: readonly string[]): void;
  /** Cancels every request; no events follow. */
  cancel(): void;
}

/** Options of {@linkcode createRuns}. */
export interface RunsOptions {
  /** Sends a fast request (`Api.explain`). */
  explainFast: Api["explain"];
  /** Runs one slow method. */
  runSlow: SlowRunner;
  /** Whether a method is slow (`Query.explainers.slow`). */
  isSlow(method: string): boolean;
  events: RunEvents;
}

function describe(problems: readonly Problem[]): string {
  return problems.map((p) =>
    `${p.title}${p.detail ? ` ${p.detail}` : ""} (${p.code})`
  ).join(" ");
}

/**
 * Makes the page's runs.
 *
 * @example
 * ```ts ignore
 * // In the page: needs a Lumen server (the page's api and slow runner).
 * const runs = createRuns({ explainFast: api.explain, runSlow, isSlow, events });
 * runs.start(file, { model: null, layer: null, classIndex: null, predictions: true });
 * runs.want(["gradcam", "scorecam"]);
 * ```
 */
export function createRuns(options: RunsOptions): Runs {
  const { events, isSlow } = options;
  let generation = 0;
  let file: Blob | null = null;
  let settings: MapSettings = { model: null, layer: null, classIndex: null };
  let predictions: "needed" | "asked" | "have" | "failed" = "have";
  let fastInFlight = 0;
  const fastPending = new Set<string>();
  const queue: string[] = [];
  let active: { method: string; cancel: () => void } | null = null;
  const cancels = new Set<() => void>();

  const updateWaiting = () => {
    const text = fastInFlight > 0 || predictions !== "have"
      ? "Waiting: slow methods start when the fast ones are done."
      : `Waiting: slow methods run one at a time, after ${active?.method}.`;
    for (const method of queue) events.phase(method, { kind: "waiting", text });
  };

  const pump = () => {
    if (active || fastInFlight > 0 || predictions !== "have" || !file) {
      updateWaiting();
      return;
    }
    const method = queue.shift();
    if (method === undefined) return;
    const run = generation;
    const current = () => run === generation && active?.method === method;
    let ended = false;
    events.phase(method, { kind: "running", progress: null });
    const cancel = options.runSlow(file, method, {
      ...settings,
      events: {
        onQueued() {
          if (!current()) return;
          events.phase(method, {
            kind: "waiting",
            text: "Queued on the server: waiting for a free worker.",
          });
        },
        onProgress(progress) {
          if (current()) events.phase(method, { kind: "running", progress });
        },
        onExplanation(explanation) {
          if (!current()) return;
          ended = true;
          events.explanation(explanation);
          events.phase(method, null);
        },
        onProblems(problems) {
          if (!current()) return;
          ended = true;
          events.phase(method, { kind: "failed", text: describe(problems) });
        },
        onDone() {
          if (!current()) return;
          if (!ended) {
            events.phase(method, { kind: "failed", text: "Not computed." });
          }
          active = null;
          pump();
        },
      },
    });
    active = { method, cancel };
    updateWaiting();
  };

  const sendFast = (methods: string[]) => {
    const run = generation;
    const withPredictions = predictions === "needed";
    if (withPredictions) predictions = "asked";
    fastInFlight++;
    for (const method of methods) {
      fastPending.add(method);
      events.phase(method, { kind: "fast" });
    }
    let failed = false;
    const cancel = options.explainFast(file!, {
      ...settings,
      methods,
      predictions: withPredictions,
    }, {
      onPredictions(list) {
        if (run !== generation) return;
        predictions = "have";
        events.predictions(list);
      },
      onExplanation(explanation) {
        if (run !== generation) return;
        fastPending.delete(explanation.method);
        events.explanation(explanation);
        events.phase(explanation.method, null);
      },
      onProblems(problems) {
        if (run !== generation) return;
        failed = true;
        events.problems(problems);
      },
      onDone() {
        if (run !== generation) return;
        cancels.delete(cancel);
        fastInFlight--;
        const text = failed ? "Not computed: see above." : "Not computed.";
        for (const method of methods) {
          if (fastPending.delete(method)) {
            events.phase(method, { kind: "failed", text });
          }
        }
        if (withPredictions && predictions !== "have") {
          // No top-5 means the image itself failed: so would the rest.
          predictions = "failed";
          for (const method of queue.splice(0)) {
            events.phase(method, { kind: "failed", text });
          }
        }
        pump();
      },
    });
    cancels.add(cancel);
  };

  const cancel = () => {
    generation++;
    for (const stop of cancels) stop();
    cancels.clear();
    active?.cancel();
    active = null;
    queue.length = 0;
    fastPending.clear();
    fastInFlight = 0;
  };

  return {
    start(next, options) {
      cancel();
      file = next;
      settings = {
        model: options.model,
        layer: options.layer,
        classIndex: options.classIndex,
      };
      predictions = options.predictions ? "needed" : "have";
    },
    want(methods) {
      if (!file) return;
      for (const method of [...queue]) {
        if (!methods.includes(method)) {
          queue.splice(queue.indexOf(method), 1);
          events.phase(method, null);
        }
      }
      if (active && !methods.includes(active.method)) {
        const dropped = active;
        active = null;
        dropped.cancel();
        events.phase(dropped.method, null);
      }
      const fresh = methods.filter((m) =>
        !fastPending.has(m) && !queue.includes(m) && active?.method !== m
      );
      queue.push(...fresh.filter((m) => isSlow(m)));
      const fast = fresh.filter((m) => !isSlow(m));
      // After a failed image (no top-5), asking again tries it again.
      if (predictions === "failed") predictions = "needed";
      if (fast.length > 0 || predictions === "needed") sendFast(fast);
      pump();
    },
    cancel,
  };
}
