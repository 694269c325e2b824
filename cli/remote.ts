/**
 * The explanation service of a running Lumen server, for `deno task explain
 * --server URL`: each `explain` is a job (`startExplanation`), followed over
 * server-sent events (`jobUpdates`), and its result handed back as the
 * local service would (maps as `Float32Array`, renderings as PNG bytes), so
 * `explainFiles` runs unchanged. No model is loaded here.
 *
 * @module
 */
import type { ExplainHooks, ExplainImageRequest } from "../explain/mod.ts";
import {
  clientError,
  encodeBase64,
  type ErrorCode,
  readImageHeader,
} from "../lib/mod.ts";
import type { ExplainService, ModelDescription } from "../workers/mod.ts";
import {
  CANCEL,
  type GraphQLBody,
  MODEL_QUERY,
  outcomeOf,
  type RemoteJob,
  serverError,
  serverSentEvents,
  sleep,
  START,
  updatesQuery,
} from "./_remote_wire.ts";

/** What the CLI needs of an explanation service. */
export type RemoteService = Pick<
  ExplainService,
  "ready" | "describe" | "explain" | "close"
>;

/** Options of {@linkcode remoteService}. */
export interface RemoteOptions {
  /**
   * Times to re-follow a job whose event stream broke (a replica stopped;
   * another one answers).
   * @default 5
   */
  reconnects?: number;
  /** Wait before re-following, and before retrying a full queue at most. @default 1_000 */
  retryMs?: number;
}

/**
 * The explanation service of the server at `server` (its base URL, e.g.
 * `http://host:8000`). Server errors come back as the client errors the
 * local service throws (`UNAVAILABLE` when the server cannot be reached); a
 * full job queue is retried after its `Retry-After`; a job whose event
 * stream breaks is followed again; aborting `signal` cancels the job.
 *
 * @example
 * ```ts ignore
 * // Needs a running server (deno task serve).
 * const service = remoteService("http://127.0.0.1:8000");
 * const model = await service.ready();
 * const outcome = await service.explain({ ...checked, image: bytes }, {
 *   onProgress: (method, fraction) => console.log(method, fraction),
 * });
 * ```
 */
export function remoteService(
  server: string,
  options: RemoteOptions = {},
): RemoteService {
  const endpoint = new URL("/graphql", server).href;
  const reconnects = options.reconnects ?? 5;
  const retryMs = options.retryMs ?? 1_000;

  const post = async (
    query: string,
    variables: Record<string, unknown>,
    accept = "application/graphql-response+json",
  ): Promise<Response> => {
    try {
      return await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) {
        throw clientError(
          "UNAVAILABLE",
          `--server needs network access to ${
            new URL(server).host
          }: run with --allow-net`,
        );
      }
      throw clientError(
        "UNAVAILABLE",
        `Cannot reach the server at ${server}: ${(error as Error).message}`,
      );
    }
  };

  /** The data of a single-result query, or its first error thrown. */
  const query = async (
    text: string,
    variables: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    const response = await post(text, variables);
    let body: GraphQLBody;
    try {
      body = await response.json();
    } catch {
      throw clientError(
        "UNAVAILABLE",
        `The server at ${server} answered HTTP ${response.status}, not GraphQL`,
      );
    }
    const error = body.errors?.[0];
    if (error) {
      const { code, ...details } = error.extensions ?? {};
      throw serverError(code, error.message, details);
    }
    return body.data!;
  };

  const describe = async (model?: string | null) => {
    const { model: info } = await query(MODEL_QUERY, { name: model ?? null });
    const m = info as Record<string, unknown> & { inputSize: number };
    return {
      name: m.name,
      backend: {
        name: m.backend,
        adapter: m.adapter,
        threads: m.threads,
        skipped: [],
      },
      inputSize: { width: m.inputSize, height: m.inputSize },
      preprocessing: m.preprocessing,
      labels: m.labels,
      layers: m.layers,
      defaultLayer: m.defaultLayer,
      randomizable: false,
    } as ModelDescription;
  };

  /** Queues the job, waiting out a full queue a few times. */
  const start = async (request: ExplainImageRequest, image: Uint8Array) => {
    const variables = {
      b: encodeBase64(image),
      methods: request.methods,
      layer: request.layer,
      classIndex: request.classIndex,
      options: request.params,
      render: request.render,
      model: request.model,
    };
    for (let attempt = 1;; attempt++) {
      try {
        const data = await query(START, variables);
        return (data.startExplanation as { id: string }).id;
      } catch (error) {
        const code = (error as { code?: ErrorCode }).code;
        if (code !== "OVERLOADED" || attempt >= 5) throw error;
        const wait = (error as { details?: { retryAfterS?: number } }).details
          ?.retryAfterS;
        await sleep(
          Math.min(60_000, (wait ?? 1) * 1000, retryMs * 2 ** attempt),
        );
      }
    }
  };

  /** Follows a job to its final state; null when the stream broke first. */
  const followOnce = async (
    id: string,
    request: ExplainImageRequest,
    onJob: (job: RemoteJob) => void,
  ): Promise<RemoteJob | null> => {
    const response = await post(
      updatesQuery(request),
      { id },
      "text/event-stream",
    );
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return null;
    }
    let last: RemoteJob | null = null;
    let failure: Error | null = null;
    try {
      for await (const body of serverSentEvents(response.body)) {
        const error = body.errors?.[0];
        if (error) {
          const code = error.extensions?.code;
          // The replica is stopping: follow again, elsewhere.
          if (code === "SHUTTING_DOWN" || code === "UNAVAILABLE") return null;
          failure = serverError(code, error.message);
          break;
        }
        last = body.data!.jobUpdates as RemoteJob;
        onJob(last);
      }
    } catch {
      return null; // The connection broke.
    }
    if (failure) throw failure;
    return last && ["succeeded", "failed", "cancelled"].includes(last.state)
      ? last
      : null;
  };

  return {
    ready: () => describe(null),
    describe: (model) => describe(model),
    async explain(request, hooks: ExplainHooks = {}) {
      const { signal } = hooks;
      signal?.throwIfAborted();
      const bytes = request.image;
      if (!(bytes instanceof Uint8Array)) {
        throw new TypeError(
          "remoteService sends encoded images (PNG or JPEG bytes)",
        );
      }
      const { width, height } = readImageHeader(bytes);
      const id = await start(request, bytes);
      const onAbort = () => void query(CANCEL, { id }).catch(() => {});
      signal?.addEventListener("abort", onAbort, { once: true });
      const { methods } = request;
      const onJob = (job: RemoteJob) => {
        // One fraction for the whole job: shown as the method it is in.
        const at = Math.min(
          methods.length - 1,
          Math.floor(job.progress * methods.length),
        );
        hooks.onProgress?.(methods[at], job.progress * methods.length - at);
      };
      try {
        let job: RemoteJob | null = null;
        for (let attempt = 0; !job; attempt++) {
          signal?.throwIfAborted();
          job = await followOnce(id, request, onJob);
          if (!job && attempt >= reconnects) {
            throw clientError(
              "UNAVAILABLE",
              `Lost job ${id} on ${server}: its updates stopped ${
                reconnects + 1
              } times`,
            );
          }
          if (!job) await sleep(retryMs);
        }
        signal?.throwIfAborted();
        if (job.state !== "succeeded") {
          throw serverError(job.errorCode, job.error ?? `Job ${job.state}`);
        }
        const outcome = outcomeOf(job, {
          request,
          image: { width, height },
        });
        hooks.onAnalysis?.(outcome.analysis);
        for (const m of outcome.methods) {
          if (m.error) hooks.onMethodError?.(m.method, m.error);
          if (m.map) hooks.onMap?.(m.map);
          if (m.rendering) hooks.onRendering?.(m.rendering);
        }
        return outcome;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    },
    close: () => Promise.resolve(),
  };
}
