/**
 * The page's slow methods as explanation jobs: `startExplanation` with the
 * image uploaded (and the CSRF header), then `jobUpdates` over server-sent
 * events for the job's state and progress, and its results at the end.
 * Cancelling asks the server to `cancelJob`, even when the job's id has not
 * arrived yet (it is cancelled as soon as it does), so a page that moves on
 * leaves no job running. A stream that ends early (a replica stopping, the
 * network) is followed again: the job lives on the server, not in the
 * request.
 *
 * @module
 */
import {
  CSRF_HEADERS,
  type Explanation,
  EXPLANATION_FIELDS,
  problemsOf,
} from "./api.ts";
import {
  describeCode,
  describeErrors,
  describeHttp,
  type Problem,
  type WireError,
} from "./messages.ts";
import { progressTracker } from "./progress.ts";
import type { SlowEvents, SlowRunner } from "./slow_runner.ts";
import { createSseParser } from "./sse.ts";
import { multipartBody } from "./upload_link.ts";

const START = `
  mutation StartExplanation(
    $image: ImageInput!
    $methods: [String!]!
    $layer: String
    $classIndex: Int
    $model: String
  ) {
    startExplanation(
      image: $image
      methods: $methods
      layer: $layer
      classIndex: $classIndex
      model: $model
    ) {
      id
    }
  }
`;

const UPDATES = `
  subscription JobUpdates($id: ID!) {
    jobUpdates(id: $id) {
      state
      progress
      error
      errorCode
      results {
        ${EXPLANATION_FIELDS}
      }
      methodErrors {
        method
        code
        message
      }
    }
  }
`;

const CANCEL = `
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      state
    }
  }
`;

/** A job as `jobUpdates` reports it. */
interface JobSnapshot {
  state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: number;
  error: string | null;
  errorCode: string | null;
  results: Explanation[] | null;
  methodErrors: { method: string; code: string; message: string }[];
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Options of {@linkcode jobSlowRunner}. */
export interface JobRunnerOptions {
  /** @default "/graphql" */
  uri?: string;
  /** @default the global `fetch` */
  fetch?: typeof fetch;
  /** A monotonic clock in ms, for the estimate. @default performance.now */
  now?: () => number;
  /** Times a stream that ends before the job does is followed again. @default 3 */
  refollows?: number;
  /** Wait before following again. @default 1000 */
  refollowDelayMs?: number;
}

/** Why following stopped before the job ended; retry: follow again. */
class FollowLost extends Error {
  constructor(readonly problems: Problem[], readonly retry: boolean) {
    super(problems[0]?.title ?? "Lost the job's updates");
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** The method's own outcome in a final job, as events. */
function finish(snapshot: JobSnapshot, method: string, events: SlowEvents) {
  if (snapshot.state === "succeeded") {
    const explanation = snapshot.results?.find((e) => e.method === method);
    if (explanation) return events.onExplanation(explanation);
    const failure = snapshot.methodErrors.find((e) => e.method === method);
    return events.onProblems([
      failure
        ? describeCode(failure.code, failure.message)
        : describeCode("INTERNAL", "The job ended without this method's map"),
    ]);
  }
  events.onProblems([
    describeCode(
      snapshot.errorCode ??
        (snapshot.state === "cancelled" ? "CANCELLED" : "INTERNAL"),
      snapshot.error ?? "",
    ),
  ]);
}

/**
 * The runner on explanation jobs: one job per method, followed to its end.
 *
 * @example
 * ```ts ignore
 * // In the page: needs a Lumen server (jobs over /graphql).
 * const runSlow = jobSlowRunner({ uri: "/graphql" });
 * const cancel = runSlow(file, "scorecam", { model: null, layer: null, classIndex: null, events });
 * ```
 */
export function jobSlowRunner(options: JobRunnerOptions = {}): SlowRunner {
  const uri = options.uri ?? "/graphql";
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? (() => performance.now());
  const refollows = options.refollows ?? 3;
  const delayMs = options.refollowDelayMs ?? 1000;

  const post = (
    body: BodyInit,
    init: { accept: string; json?: boolean; signal?: AbortSignal } & {
      keepalive?: boolean;
    },
  ) =>
    send(uri, {
      method: "POST",
      headers: {
        ...CSRF_HEADERS,
        accept: init.accept,
        ...(init.json ? { "content-type": "application/json" } : {}),
      },
      body,
      ...(init.signal ? { signal: init.signal } : {}),
      ...(init.keepalive ? { keepalive: true } : {}),
    });

  /** The job's id, or the problems that kept it from starting. */
  const start = async (
    file: Blob,
    variables: Record<string, unknown>,
  ): Promise<string> => {
    const operations = JSON.stringify({
      query: START,
      variables: { ...variables, image: { file: null } },
    });
    // Not abortable: a start the server received becomes a job, and only
    // its id lets the page cancel it.
    const response = await post(
      multipartBody(operations, new Map([[file, ["variables.image.file"]]])),
      { accept: "application/graphql-response+json, application/json" },
    );
    const text = await response.text();
    let body: { data?: { startExplanation?: { id: string } | null } | null };
    try {
      body = JSON.parse(text);
    } catch {
      throw new FollowLost(describeHttp(response.status, text), false);
    }
    const id = body.data?.startExplanation?.id;
    if (!id) throw new FollowLost(describeHttp(response.status, text), false);
    return id;
  };

  const cancelJob = (id: string) => {
    // keepalive: the cancel still goes out when the page is being closed.
    post(JSON.stringify({ query: CANCEL, variables: { id } }), {
      accept: "application/json",
      json: true,
      keepalive: true,
    }).then((r) => r.body?.cancel(), () => {});
  };

  /** Follows the job over one stream; resolves with its final snapshot. */
  const followOnce = async (
    id: string,
    signal: AbortSignal,
    onSnapshot: (job: JobSnapshot) => void,
  ): Promise<JobSnapshot> => {
    let response: Response;
    try {
      response = await post(
        JSON.stringify({ query: UPDATES, variables: { id } }),
        { accept: "text/event-stream", json: true, signal },
      );
    } catch (error) {
      if (signal.aborted) throw error;
      throw new FollowLost(problemsOf(error), true);
    }
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok || !type.startsWith("text/event-stream")) {
      const problems = describeHttp(response.status, await response.text());
      throw new FollowLost(problems, problems.every((p) => p.retry));
    }
    const seen: { final: JobSnapshot | null; errors: WireError[] } = {
      final: null,
      errors: [],
    };
    const parser = createSseParser(({ event, data }) => {
      if (event !== "next") return;
      const result = JSON.parse(data);
      if (result.errors?.length) seen.errors = result.errors;
      const job: JobSnapshot | undefined = result.data?.jobUpdates;
      if (!job) return;
      if (FINAL.has(job.state)) seen.final = job;
      else onSnapshot(job);
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    try {
      while (seen.final === null) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch (error) {
      if (signal.aborted) throw error;
      throw new FollowLost(problemsOf(error), true);
    } finally {
      reader.cancel().catch(() => {});
    }
    if (seen.final) return seen.final;
    const problems = seen.errors.length > 0
      ? describeErrors(seen.errors)
      : [describeCode("NETWORK_ERROR", "The job's updates stopped")];
    throw new FollowLost(problems, problems.every((p) => p.retry));
  };

  return (file, method, { model, layer, classIndex, events }) => {
    const stop = new AbortController();
    let id: string | null = null;
    const tracker = progressTracker();
    const onSnapshot = (job: JobSnapshot) => {
      if (job.state === "queued") events.onQueued?.();
      else events.onProgress(tracker.update(job.progress, now()));
    };
    const run = async () => {
      const started = await start(file, {
        methods: [method],
        model,
        layer,
        classIndex,
      });
      if (stop.signal.aborted) return cancelJob(started);
      id = started;
      for (let attempt = 0;; attempt++) {
        try {
          const final = await followOnce(started, stop.signal, onSnapshot);
          id = null; // ended: nothing left to cancel
          return finish(final, method, events);
        } catch (error) {
          if (
            !(error instanceof FollowLost) || !error.retry ||
            attempt >= refollows
          ) throw error;
          await sleep(delayMs, stop.signal);
        }
      }
    };
    run().catch((error) => {
      if (stop.signal.aborted) return;
      events.onProblems(
        error instanceof FollowLost ? error.problems : problemsOf(error),
      );
    }).finally(() => {
      if (!stop.signal.aborted) events.onDone();
    });
    return () => {
      if (stop.signal.aborted) return;
      stop.abort();
      if (id !== null) cancelJob(id);
    };
  };
}
