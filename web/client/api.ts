/**
 * The page's side of the GraphQL API, through Apollo Client: the start-up
 * query (models, the default model's layers and labels, explainers), a
 * model's description (when the person picks another), and the explain
 * query, an upload answered incrementally — the top-5 first, then one
 * explanation per method as each is computed (`@stream`). Slow methods go
 * elsewhere, one job each: see `job_runner.ts`.
 *
 * @module
 */
import {
  ApolloClient,
  type DocumentNode,
  gql,
  InMemoryCache,
} from "@apollo/client";
import {
  CombinedGraphQLErrors,
  ServerError,
  ServerParseError,
} from "@apollo/client/errors";
import { Defer20220824Handler } from "@apollo/client/incremental";
import {
  describeCode,
  describeErrors,
  describeHttp,
  type Problem,
} from "./messages.ts";
import { uploadStreamLink } from "./upload_link.ts";

/**
 * Headers that satisfy the server's CSRF protection for multipart uploads
 * (yoga's and Apollo's conventions; either is enough).
 */
export const CSRF_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-graphql-yoga-csrf": "1",
  "apollo-require-preflight": "true",
});

/** A class and how likely the model finds it. */
export interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
}

/** One explanation as the page receives it: the map, not an overlay. */
export interface Explanation {
  method: string;
  layer: string;
  classIndex: number;
  label: string;
  probability: number;
  map: {
    width: number;
    height: number;
    values: number[];
    rawMin: number;
    rawMax: number;
  };
  timings: { decode: number; forward: number; explain: number };
}

/** A layer the model offers. */
export interface LayerInfo {
  name: string;
  /** Other accepted names: modern Keras (`conv4_block6_out`), torchvision (`layer3`). */
  aliases: string[];
  shape: number[];
  kind: string;
  explainable: boolean;
}

/** A model the server serves, as listed by `Query.models`. */
export interface ModelSummary {
  name: string;
  /** Whether requests without a model argument use it. */
  isDefault: boolean;
}

/** One model, described: its engine, layers and classes. */
export interface ModelInfo {
  name: string;
  backend: string;
  adapter: string | null;
  inputSize: number;
  defaultLayer: string;
  layers: LayerInfo[];
  labels: string[];
}

/** What the page needs to know before the first upload. */
export interface ServerInfo {
  /** Every model served, the default first. */
  models: ModelSummary[];
  /** The default model. */
  model: ModelInfo;
  explainers: ExplainerInfo[];
}

/** An explanation method the server offers. */
export interface ExplainerInfo {
  name: string;
  description: string;
  needsGradients: boolean;
  /** Many model passes (seconds): run on its own, with progress. */
  slow: boolean;
}

/** What the maps explain: the model, layer and class (null: the default). */
export interface MapSettings {
  model: string | null;
  layer: string | null;
  classIndex: number | null;
}

/** The settings of one explain request. */
export interface ExplainSettings extends MapSettings {
  /** Methods for `explainMany`, which share one model pass; may be empty. */
  methods: string[];
  /** Whether to ask for the top-5. @default true */
  predictions?: boolean;
}

/** What an explain request reports, as it happens. */
export interface ExplainEvents {
  /** The top-5, before any explanation. */
  onPredictions(predictions: Prediction[]): void;
  /** One method's explanation, as soon as it is computed. */
  onExplanation(explanation: Explanation): void;
  /** Everything arrived. */
  onDone(): void;
  /** The request, or part of it, failed; later events may still come. */
  onProblems(problems: Problem[]): void;
}

const MODEL_FIELDS = `
  name
  backend
  adapter
  inputSize
  defaultLayer
  layers {
    name
    shape
    kind
    aliases
    explainable
  }
  labels
`;

const SERVER_INFO = gql`
  query ServerInfo {
    models {
      name
      isDefault
    }
    model {
      ${MODEL_FIELDS}
    }
    explainers {
      name
      description
      needsGradients
      slow
    }
  }
`;

/**
 * The fields the page reads of an explanation: the map, not the overlay
 * (the page renders overlays itself, so the server renders none).
 */
export const EXPLANATION_FIELDS = `
  method
  layer
  classIndex
  label
  probability
  map {
    width
    height
    values
    rawMin
    rawMax
  }
  timings {
    decode
    forward
    explain
  }
`;

const MODEL = gql`
  query Model($name: String!) {
    model(name: $name) {
      ${MODEL_FIELDS}
    }
  }
`;

const EXPLAIN = gql`
  query ExplainUpload(
    $image: ImageInput!
    $methods: [String!]!
    $layer: String
    $classIndex: Int
    $model: String
    $withPredictions: Boolean!
    $withMethods: Boolean!
  ) {
    predict(image: $image, top: 5, model: $model)
      @include(if: $withPredictions) {
      classIndex
      label
      probability
    }
    explainMany(
      image: $image
      methods: $methods
      layer: $layer
      classIndex: $classIndex
      model: $model
    ) @include(if: $withMethods) @stream(initialCount: 0) {
      ${EXPLANATION_FIELDS}
    }
  }
`;

interface ExplainData {
  predict?: Prediction[] | null;
  explainMany?: (Explanation | null)[] | null;
}

/**
 * What went wrong, in the page's words, from whatever Apollo reports:
 * GraphQL errors (by `extensions.code`), HTTP failures, unparsable answers
 * and network errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(problemsOf(new TypeError("Failed to fetch"))[0]?.code, "NETWORK_ERROR");
 * assert.equal(problemsOf(new Error("Oops"))[0]?.code, "INTERNAL_SERVER_ERROR");
 * ```
 */
export function problemsOf(error: unknown): Problem[] {
  if (CombinedGraphQLErrors.is(error)) return describeErrors(error.errors);
  if (ServerError.is(error)) {
    return describeHttp(error.statusCode, error.bodyText);
  }
  if (ServerParseError.is(error)) {
    return describeHttp(error.statusCode, error.bodyText);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TypeError) {
    return [describeCode("NETWORK_ERROR", message)];
  }
  return [describeCode("INTERNAL_SERVER_ERROR", message)];
}

/** The page's connection to the API. */
export interface Api {
  /** Models and explainers; fails with `MODEL_NOT_READY` while loading. */
  serverInfo(): Promise<ServerInfo>;
  /**
   * One model, by name (the server loads it on first use, so this may take
   * seconds); fails with a {@linkcode ProblemError}.
   */
  modelInfo(name: string): Promise<ModelInfo>;
  /**
   * Uploads `file` and explains it; returns a function that cancels the
   * request (no events follow).
   */
  explain(
    file: Blob,
    settings: ExplainSettings,
    events: ExplainEvents,
  ): () => void;
}

/**
 * Connects to the GraphQL endpoint at `uri`.
 *
 * @example
 * ```ts ignore
 * // Needs a Lumen server (the page's own origin).
 * const api = createApi("/graphql");
 * const info = await api.serverInfo();
 * ```
 */
export function createApi(uri = "/graphql"): Api {
  const client = new ApolloClient({
    link: uploadStreamLink({ uri, headers: { ...CSRF_HEADERS } }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
  const query = async <T>(
    document: DocumentNode,
    variables: Record<string, unknown> = {},
  ): Promise<T> => {
    let result;
    try {
      result = await client.query<T>({
        query: document,
        variables,
        fetchPolicy: "no-cache",
      });
    } catch (error) {
      throw new ProblemError(problemsOf(error));
    }
    if (result.error || !result.data) {
      throw new ProblemError(problemsOf(result.error));
    }
    return result.data as T;
  };
  return {
    serverInfo: () => query<ServerInfo>(SERVER_INFO),
    async modelInfo(name) {
      return (await query<{ model: ModelInfo }>(MODEL, { name })).model;
    },
    explain(file, settings, events) {
      let predictionsSent = false;
      const sent = new Set<string>();
      let reported = "";
      const report = (problems: Problem[]) => {
        const key = JSON.stringify(problems);
        if (problems.length === 0 || key === reported) return;
        reported = key;
        events.onProblems(problems);
      };
      const subscription = client.watchQuery<ExplainData>({
        query: EXPLAIN,
        variables: {
          image: { file },
          methods: settings.methods,
          layer: settings.layer,
          classIndex: settings.classIndex,
          model: settings.model,
          withPredictions: settings.predictions ?? true,
          withMethods: settings.methods.length > 0,
        },
        fetchPolicy: "no-cache",
        errorPolicy: "all",
      }).subscribe({
        next(result) {
          const data = result.data as ExplainData | undefined;
          if (!predictionsSent && data?.predict) {
            predictionsSent = true;
            events.onPredictions(data.predict);
          }
          for (const explanation of data?.explainMany ?? []) {
            if (explanation && !sent.has(explanation.method)) {
              sent.add(explanation.method);
              events.onExplanation(explanation);
            }
          }
          if (result.error) report(problemsOf(result.error));
          // Streaming results come with loading true; the last one without.
          if (!result.loading && result.dataState !== "streaming") {
            events.onDone();
            // Not at once: the response's closing boundary may still be on
            // its way, and unsubscribing aborts the request.
            setTimeout(() => subscription.unsubscribe(), 0);
          }
        },
        error(error) {
          report(problemsOf(error));
          events.onDone();
        },
      });
      return () => subscription.unsubscribe();
    },
  };
}

/** A failure already described for people. */
export class ProblemError extends Error {
  override name = "ProblemError";
  /** What went wrong. */
  readonly problems: Problem[];

  /** Wraps problems; the message is the first one's title. */
  constructor(problems: Problem[]) {
    super(problems[0]?.title ?? "The request failed.");
    this.problems = problems;
  }
}
