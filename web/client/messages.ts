/**
 * What the page tells people when something goes wrong: one clear message
 * per error code the API uses (`extensions.code`), per HTTP failure and for
 * an unreachable server. Pure: no DOM, tested in-process.
 *
 * @module
 */

/** A problem as the page shows it: a headline and what to do about it. */
export interface Problem {
  /** The error code, or `HTTP_<status>` / `NETWORK_ERROR`. */
  code: string;
  /** One sentence saying what happened. */
  title: string;
  /** The server's own words (they often list the valid values). */
  detail: string;
  /** Whether sending the same request again later may work. */
  retry: boolean;
}

const TITLES: Record<string, { title: string; retry?: boolean }> = {
  BAD_USER_INPUT: { title: "The request was refused: a setting is invalid." },
  INVALID_IMAGE: {
    title: "This file is not an image Lumen can read: use a PNG or JPEG.",
  },
  IMAGE_TOO_LARGE: {
    title: "This image is too large: try a smaller or downscaled one.",
  },
  UNKNOWN_METHOD: { title: "The server does not know this method." },
  UNKNOWN_LAYER: { title: "The model has no layer by this name." },
  UNSUPPORTED_LAYER: {
    title: "This layer cannot be explained: pick a convolutional layer.",
  },
  UNSUPPORTED_MODEL: {
    title: "This check is not available for the model the server runs.",
  },
  UNKNOWN_COLORMAP: { title: "The server does not know this colour map." },
  UNKNOWN_MODEL: {
    title: "The server does not serve this model: reload the page.",
  },
  MODEL_NOT_READY: {
    title: "The model is still loading: try again in a few seconds.",
    retry: true,
  },
  MODEL_LOAD_FAILED: {
    title: "The model failed to load: the server needs attention.",
  },
  OVERLOADED: {
    title: "The server is busy with other explanations: try again shortly.",
    retry: true,
  },
  TIMEOUT: {
    title: "The explanation took too long and was stopped: try fewer or " +
      "faster methods.",
    retry: true,
  },
  CANCELLED: {
    title: "The job was cancelled on the server.",
    retry: true,
  },
  JOB_NOT_FOUND: {
    title: "The server no longer has this job (it restarted, or the " +
      "results expired): try again.",
    retry: true,
  },
  WORKER_LOST: {
    title: "The worker running this job stopped, more than once: try again.",
    retry: true,
  },
  MODEL_CRASHED: {
    title: "The model stopped while running this; a fresh one is starting: " +
      "try again.",
    retry: true,
  },
  UNAVAILABLE: {
    title: "The server's job queue cannot be reached: try again shortly.",
    retry: true,
  },
  QUERY_TOO_COMPLEX: {
    title: "The server refused the query as too large or too deep.",
  },
  SHUTTING_DOWN: {
    title: "The server is restarting: try again in a moment.",
    retry: true,
  },
  GRAPHQL_VALIDATION_FAILED: {
    title: "The page sent a query this server does not accept: reload it.",
  },
  GRAPHQL_PARSE_FAILED: {
    title: "The page sent a query this server cannot parse: reload it.",
  },
  PERSISTED_QUERY_NOT_FOUND: {
    title: "The page sent a query this server does not accept: reload it.",
  },
  INTERNAL_SERVER_ERROR: {
    title: "The server failed unexpectedly: the error was logged there.",
    retry: true,
  },
  // A job's own word for the same.
  INTERNAL: {
    title: "The server failed unexpectedly: the error was logged there.",
    retry: true,
  },
  NETWORK_ERROR: {
    title: "Cannot reach the Lumen server: check that it is running.",
    retry: true,
  },
};

const HTTP_TITLES: Record<number, { title: string; retry?: boolean }> = {
  400: { title: "The server refused the request as malformed." },
  403: {
    title: "The server refused the upload (cross-site request protection).",
  },
  413: { title: "The upload is larger than the server accepts." },
  429: { title: "Too many requests: wait a moment.", retry: true },
  503: {
    title: "The server is busy or not ready: try again shortly.",
    retry: true,
  },
};

/**
 * The message for one error code. Unknown codes still give a readable
 * sentence built from the server's message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   describeCode("INVALID_IMAGE", "Cannot decode image: not a PNG or JPEG").title,
 *   "This file is not an image Lumen can read: use a PNG or JPEG.",
 * );
 * assert.equal(describeCode("NEW_CODE", "Something new").title, "The request failed: Something new");
 * ```
 */
export function describeCode(code: string, detail = ""): Problem {
  const known = TITLES[code];
  if (known) {
    return { code, title: known.title, detail, retry: known.retry ?? false };
  }
  return {
    code,
    title: detail ? `The request failed: ${detail}` : "The request failed.",
    detail: "",
    retry: false,
  };
}

/**
 * The message for an HTTP failure, preferring the GraphQL error codes in
 * the body when it has any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(describeHttp(413, "")[0]?.title, "The upload is larger than the server accepts.");
 * assert.equal(describeHttp(502, "Bad gateway")[0]?.title, "The server failed (HTTP 502).");
 * ```
 */
export function describeHttp(status: number, bodyText: string): Problem[] {
  const fromBody = problemsFromBody(bodyText);
  if (fromBody.length > 0) return fromBody;
  const known = HTTP_TITLES[status] ??
    (status >= 500
      ? { title: `The server failed (HTTP ${status}).`, retry: true }
      : { title: `The server refused the request (HTTP ${status}).` });
  return [{
    code: `HTTP_${status}`,
    title: known.title,
    detail: bodyText.trim().slice(0, 300),
    retry: known.retry ?? false,
  }];
}

/** A GraphQL error as it arrives in a response body. */
export interface WireError {
  message: string;
  extensions?: { code?: unknown; [key: string]: unknown };
}

/**
 * Turns GraphQL errors into problems, one per distinct code and message
 * (an upload used twice in one query fails twice the same way).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const busy = { message: "The server is busy", extensions: { code: "OVERLOADED" } };
 * const problems = describeErrors([busy, busy]); // the same error twice: one problem
 * assert.equal(problems.length, 1);
 * assert.equal(problems[0]?.retry, true);
 * ```
 */
export function describeErrors(errors: readonly WireError[]): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of errors) {
    const code = typeof error.extensions?.code === "string"
      ? error.extensions.code
      : "INTERNAL_SERVER_ERROR";
    const key = `${code}\n${error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(describeCode(code, error.message));
  }
  return problems;
}

function problemsFromBody(bodyText: string): Problem[] {
  try {
    const body = JSON.parse(bodyText);
    if (Array.isArray(body?.errors) && body.errors.length > 0) {
      return describeErrors(body.errors as WireError[]);
    }
  } catch {
    // Not JSON: fall back to the status.
  }
  return [];
}
