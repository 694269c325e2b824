/**
 * Apps with explanation jobs for the web tests, in this process: the queue,
 * its store and its runner embedded, as `main.ts` runs them by default, on
 * the tiny network (with test explainers) or on the shared ResNet-50.
 *
 * @module
 */
import { activationExplainer } from "../../explainers/activation.ts";
import { gradCamExplainer } from "../../explainers/grad_cam.ts";
import { createRegistry, type Registry } from "../../explainers/registry.ts";
import type { Explainer } from "../../explainers/types.ts";
import {
  DEFAULT_JOB_SETTINGS,
  openExplanationJobs,
} from "../../jobs/explanation/mod.ts";
import type { ModelRuntime } from "../../models/mod.ts";
import { type App, createApp } from "../../server/mod.ts";
import { sharedResNet50 } from "../_shared.ts";
import { serviceOver } from "../_service.ts";
import { graphqlRequest, send } from "../schema/_helpers.ts";
import { sharedTiny } from "../schema/_tiny_app.ts";

/** An app whose jobs run here; disposing it closes the job queue. */
export interface JobApp extends AsyncDisposable {
  app: App;
}

async function appOver(
  runtime: ModelRuntime,
  registry: Registry,
): Promise<JobApp> {
  const service = await serviceOver(runtime, registry);
  const jobs = openExplanationJobs(DEFAULT_JOB_SETTINGS, {
    runHere: { service, registry },
  });
  return {
    app: createApp({ service, registry, jobs }),
    async [Symbol.asyncDispose]() {
      // The service is not closed: it would dispose the shared network.
      await jobs.close({ graceMs: 0 });
    },
  };
}

/** The tiny network (model "tiny") with activation, gradcam and `extra`. */
export async function tinyJobApp(extra: Explainer[] = []): Promise<JobApp> {
  return appOver(
    await sharedTiny(),
    createRegistry([activationExplainer(), gradCamExplainer(), ...extra]),
  );
}

/** The shared ResNet-50 with every built-in method. */
export async function resnetJobApp(): Promise<JobApp> {
  return appOver(await sharedResNet50(), createRegistry());
}

/** A job's state and error code, asked of `app`. */
export async function jobState(
  app: App,
  id: string,
): Promise<{ state: string; errorCode: string | null }> {
  const body = await send(
    app.fetch,
    graphqlRequest("query($id: ID!) { job(id: $id) { state errorCode } }", {
      id,
    }),
  );
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!.job as { state: string; errorCode: string | null };
}

/**
 * Waits until the job is `cancelled` (code `CANCELLED`) on the server;
 * throws after 10 s.
 */
export async function untilCancelled(app: App, id: string): Promise<void> {
  const end = performance.now() + 10_000;
  let job = await jobState(app, id);
  while (job.state !== "cancelled") {
    if (performance.now() > end) {
      throw new Error(`Job ${id} not cancelled: ${JSON.stringify(job)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    job = await jobState(app, id);
  }
  if (job.errorCode !== "CANCELLED") {
    throw new Error(`Job ${id} cancelled with ${job.errorCode}`);
  }
}

/**
 * A `fetch` that records the ids of the jobs it started (from the answers
 * to `startExplanation`) and can cut job update streams short.
 */
export interface JobFetch {
  fetch: typeof fetch;
  /** Job ids, in the order their start was answered. */
  readonly ids: string[];
  /** Requests sent, by operation (`StartExplanation`, `JobUpdates`, `CancelJob`). */
  readonly sent: Map<string, number>;
  /** The next `n` update streams end after their first chunk. */
  cutStreams(n: number): void;
}

/** Makes a {@linkcode JobFetch}. */
export function jobFetch(): JobFetch {
  const ids: string[] = [];
  const sent = new Map<string, number>();
  let cuts = 0;
  return {
    ids,
    sent,
    cutStreams: (n) => cuts = n,
    async fetch(input, init) {
      const body = init?.body;
      const text = typeof body === "string"
        ? body
        : body instanceof FormData
        ? String(body.get("operations"))
        : "";
      const operation = /(mutation|subscription|query) (\w+)/.exec(text)?.[2] ??
        "other";
      sent.set(operation, (sent.get(operation) ?? 0) + 1);
      const response = await fetch(input, init);
      if (operation === "StartExplanation") {
        const answer = await response.clone().json();
        const id = answer.data?.startExplanation?.id;
        if (id) ids.push(id);
      }
      if (operation === "JobUpdates" && cuts > 0 && response.body) {
        cuts--;
        const reader = response.body.getReader();
        const first = await reader.read();
        reader.cancel();
        return new Response(first.value ?? new Uint8Array(), {
          status: response.status,
          headers: response.headers,
        });
      }
      return response;
    },
  };
}
