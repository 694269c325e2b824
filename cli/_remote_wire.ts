/**
 * The wire side of `--server`: the GraphQL documents the CLI sends, the
 * job updates' event stream, and a finished job turned into the local
 * service's outcome.
 *
 * @module
 */
import type {
  ExplainImageRequest,
  ExplainOutcome,
  MethodOutcome,
} from "../explain/mod.ts";
import { decodeBase64Image, reviveClientError } from "../lib/mod.ts";

/** A GraphQL response body. */
export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** An `Explanation` as the job updates send it. */
export interface RemoteExplanation {
  method: string;
  layer: string;
  classIndex: number;
  label: string;
  probability: number;
  predictions: { classIndex: number; label: string; probability: number }[];
  map: {
    width: number;
    height: number;
    values: number[];
    rawMin: number;
    rawMax: number;
  };
  overlay?: string;
  heatmap?: string;
  timings: { decode: number; forward: number; explain: number; render: number };
  details: { name: string; value: number }[];
}

/** A `Job` as the job updates send it. */
export interface RemoteJob {
  id: string;
  state: string;
  progress: number;
  error: string | null;
  errorCode: string | null;
  results: RemoteExplanation[] | null;
  methodErrors: { method: string; code: string; message: string }[];
}

/** The model a run uses, described by the server. */
export const MODEL_QUERY = `query($name: String) {
  model(name: $name) {
    name backend adapter threads inputSize preprocessing defaultLayer labels
    layers { name shape kind aliases explainable }
  }
}`;

/** Queues one image's methods as a job. */
export const START =
  `mutation($b: String!, $methods: [String!]!, $layer: String,
    $classIndex: Int, $options: JSON, $render: RenderOptions, $model: String) {
  startExplanation(image: { base64: $b }, methods: $methods, layer: $layer,
    classIndex: $classIndex, options: $options, render: $render,
    model: $model) { id }
}`;

/** Cancels a job. */
export const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { id } }`;

/** The `jobUpdates` subscription, selecting the renderings asked for. */
export function updatesQuery(request: ExplainImageRequest): string {
  const { outputs } = request;
  return `subscription($id: ID!) {
  jobUpdates(id: $id) {
    id state progress error errorCode
    results {
      method layer classIndex label probability
      predictions { classIndex label probability }
      map { width height values rawMin rawMax }
      ${outputs.overlay ? "overlay" : ""} ${outputs.heatmap ? "heatmap" : ""}
      timings { decode forward explain render }
      details { name value }
    }
    methodErrors { method code message }
  }
}`;
}

/** An error the server answered, as the local service would throw it. */
export function serverError(
  code: unknown,
  message: string,
  details: Record<string, unknown> = {},
): Error {
  return reviveClientError({ code, message, details }) ?? new Error(message);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bytes of a `data:image/png;base64,` URL (undefined stays undefined). */
export function pngBytes(dataUrl: string | undefined): Uint8Array | undefined {
  return dataUrl
    ? decodeBase64Image(dataUrl, Number.MAX_SAFE_INTEGER)
    : undefined;
}

/** Splits an event stream into its `next` payloads as they arrive. */
export async function* serverSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<GraphQLBody> {
  let buffer = "";
  const decoder = new TextDecoderStream() as unknown as TransformStream<
    Uint8Array,
    string
  >;
  for await (const text of body.pipeThrough(decoder)) {
    buffer += text;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim();
      const data = lines.filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart()).join("\n");
      if (event === "next" && data) yield JSON.parse(data);
      if (event === "complete") return;
    }
  }
}

/**
 * The outcome of a succeeded job, in the local service's shapes: methods in
 * the order `request` asked for them, one the server sent no result for as
 * that method's error.
 */
export function outcomeOf(
  job: RemoteJob,
  asked: {
    /** The request the job was started with. */
    request: ExplainImageRequest;
    /** The decoded image's size. */
    image: { width: number; height: number };
  },
): ExplainOutcome {
  const { request, image } = asked;
  const results = job.results ?? [];
  const first = results[0];
  const methods: MethodOutcome[] = request.methods.map((method) => {
    const result = results.find((r) => r.method === method);
    if (!result) {
      const failure = job.methodErrors.find((e) => e.method === method);
      return {
        method,
        error: serverError(
          failure?.code,
          failure?.message ?? `The server sent no result for "${method}"`,
        ),
      };
    }
    const details = Object.fromEntries(
      result.details.map((d) => [d.name, d.value]),
    );
    return {
      method,
      map: {
        method,
        heatmap: {
          ...result.map,
          values: Float32Array.from(result.map.values),
        },
        explainMs: result.timings.explain,
        ...(result.details.length > 0 ? { details } : {}),
      },
      rendering: {
        method,
        overlay: pngBytes(result.overlay),
        heatmap: pngBytes(result.heatmap),
        renderMs: result.timings.render,
      },
    };
  });
  return {
    analysis: {
      model: request.model,
      layer: first.layer,
      classIndex: first.classIndex,
      label: first.label,
      probability: first.probability,
      predictions: first.predictions,
      image,
      decodeMs: first.timings.decode,
      forwardMs: first.timings.forward,
    },
    methods,
  };
}
