/**
 * How the page runs one slow method (scorecam, occlusion…): its own
 * request, so its own time budget, with progress as it goes. Everything
 * the page knows about this is the {@linkcode SlowRunner} type; today's
 * runner is `Subscription.explainProgress` over server-sent events, and a
 * runner on jobs (`Mutation.startExplanation`, `Subscription.jobUpdates`)
 * replaces it by changing the one line that makes the runner in `main.ts`.
 *
 * @module
 */
import {
  CSRF_HEADERS,
  type Explanation,
  EXPLANATION_FIELDS,
  type MapSettings,
  problemsOf,
} from "./api.ts";
import { describeErrors, describeHttp, type Problem } from "./messages.ts";
import { type ProgressState, progressTracker } from "./progress.ts";
import { createSseParser } from "./sse.ts";
import { multipartBody } from "./upload_link.ts";

/** What a slow run reports, as it happens. */
export interface SlowEvents {
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

const PROGRESS = `
  subscription ExplainProgress(
    $image: ImageInput!
    $method: String!
    $layer: String
    $classIndex: Int
  ) {
    explainProgress(
      image: $image
      method: $method
      layer: $layer
      classIndex: $classIndex
    ) {
      fraction
      explanation {
        ${EXPLANATION_FIELDS}
      }
    }
  }
`;

/** Options of {@linkcode sseSlowRunner}. */
export interface SseSlowRunnerOptions {
  /** @default "/graphql" */
  uri?: string;
  /** @default the global `fetch` */
  fetch?: typeof fetch;
  /** A monotonic clock in ms, for the estimate. @default performance.now */
  now?: () => number;
}

/**
 * The runner on `Subscription.explainProgress`: the image as a multipart
 * upload (with the CSRF header), the answer as server-sent events.
 *
 * @example
 * ```ts
 * const runSlow = sseSlowRunner({ uri: "/graphql" });
 * const cancel = runSlow(file, "scorecam", { layer: null, classIndex: null, events });
 * ```
 */
export function sseSlowRunner(options: SseSlowRunnerOptions = {}): SlowRunner {
  const uri = options.uri ?? "/graphql";
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? (() => performance.now());
  return (file, method, { layer, classIndex, events }) => {
    const controller = new AbortController();
    const run = async () => {
      const operations = JSON.stringify({
        query: PROGRESS,
        variables: { image: { file: null }, method, layer, classIndex },
      });
      const response = await send(uri, {
        method: "POST",
        headers: { ...CSRF_HEADERS, accept: "text/event-stream" },
        body: multipartBody(
          operations,
          new Map([[file, ["variables.image.file"]]]),
        ),
        signal: controller.signal,
      });
      const type = response.headers.get("content-type") ?? "";
      if (!response.ok || !type.startsWith("text/event-stream")) {
        events.onProblems(describeHttp(response.status, await response.text()));
        return;
      }
      const tracker = progressTracker();
      const parser = createSseParser(({ event, data }) => {
        if (event !== "next") return;
        const result = JSON.parse(data);
        if (result.errors?.length) {
          events.onProblems(describeErrors(result.errors));
        }
        const progress = result.data?.explainProgress;
        if (progress?.explanation) events.onExplanation(progress.explanation);
        else if (progress) {
          events.onProgress(tracker.update(progress.fraction, now()));
        }
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream())
        .getReader();
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    };
    run().catch((error) => {
      if (!controller.signal.aborted) events.onProblems(problemsOf(error));
    }).finally(() => {
      if (!controller.signal.aborted) events.onDone();
    });
    return () => controller.abort();
  };
}
