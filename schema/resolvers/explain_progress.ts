/**
 * `Subscription.explainProgress`: one method's explanation with its
 * progress, over server-sent events (`Accept: text/event-stream`). The
 * events' fractions never decrease: 0 once the shared model pass is done,
 * then the fractions the method reports as its extra passes run (only the
 * latest, when the client reads slower than they come), then a last event
 * with fraction 1 and the explanation. A failure is a last event with
 * `errors`. It is one model job, as `explain`; a client that disconnects
 * aborts it at the method's next batch.
 *
 * @module
 */
import type { GraphQLResolveInfo } from "graphql";
import type { LumenContext } from "../context.ts";
import {
  type AnalyzedRequest,
  type CheckedRequest,
  checkRequest,
  type ExplainFieldArgs,
  type ExplanationResult,
  startRequest,
} from "../explanation.ts";

/** Arguments of `Subscription.explainProgress`. */
export interface ExplainProgressArgs extends ExplainFieldArgs {
  method: string;
}

/** The `ProgressEvent` GraphQL type. */
export interface ProgressEventResult {
  /** Fraction done, 0 to 1. */
  fraction: number;
  /** The explanation, on the last event only. */
  explanation: ExplanationResult | null;
}

/** What the event stream yields: an event, or the error that ends it. */
export type ProgressPayload =
  | { event: ProgressEventResult }
  | { error: unknown };

async function* progressEvents(
  context: LumenContext,
  checked: CheckedRequest,
  method: string,
): AsyncGenerator<ProgressPayload> {
  let reported = 0;
  let wake = Promise.withResolvers<void>();
  const onProgress = (_method: string, fraction: number) => {
    // 1 is sent with the explanation, once it is rendered.
    if (fraction > reported && fraction < 1) {
      reported = fraction;
      wake.resolve();
    }
  };
  let request: AnalyzedRequest;
  try {
    request = await startRequest(
      { context, field: "explainProgress" },
      checked,
      { onProgress },
    );
  } catch (error) {
    yield { error };
    return;
  }
  yield { event: { fraction: 0, explanation: null } };
  const settled = request.settled(method).then(
    () => ({ error: null }),
    (error: unknown) => ({ error }),
  );
  let sent = 0;
  while (true) {
    const done = await Promise.race([settled, wake.promise.then(() => null)]);
    if (done !== null) {
      if (done.error !== null) {
        yield { error: done.error };
        return;
      }
      break;
    }
    wake = Promise.withResolvers<void>();
    if (reported > sent) {
      sent = reported;
      yield { event: { fraction: sent, explanation: null } };
    }
  }
  yield {
    event: { fraction: 1, explanation: request.explanation(method) },
  };
}

/**
 * Resolves `explainProgress(image, method, layer, classIndex, className,
 * options, render)`: every argument is checked before the stream starts
 * (an invalid one answers a single result with `errors`), then events come
 * as the job computes the map.
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model: `app` is createApp({ service, registry }) (server/app.ts),
 * // whose schema wires `Subscription: { explainProgress }`; events come as SSE.
 * const query = `subscription { explainProgress(image: { base64: "${base64}" }, method: "scorecam") {
 *   fraction explanation { overlay } } }`;
 * const response = await app.fetch(new Request("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json", accept: "text/event-stream" },
 *   body: JSON.stringify({ query }),
 * }));
 * // event: next / data: {"data":{"explainProgress":{"fraction":0,"explanation":null}}} …
 * ```
 */
export const explainProgress = {
  async subscribe(
    _root: unknown,
    args: ExplainProgressArgs,
    context: LumenContext,
    info: GraphQLResolveInfo,
  ): Promise<AsyncGenerator<ProgressPayload>> {
    const checked = await checkRequest(
      { context, info },
      { ...args, methods: [args.method] },
      { path: ["explanation"], computeMaps: true },
    );
    return progressEvents(context, checked, args.method);
  },
  resolve(payload: ProgressPayload): ProgressEventResult {
    if ("error" in payload) throw payload.error;
    return payload.event;
  },
};
