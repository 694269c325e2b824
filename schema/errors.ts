/**
 * The one place where errors become GraphQL errors: a `ClientError` thrown
 * anywhere below the API becomes a `GraphQLError` whose `extensions` carry
 * its `code` and details (retryable codes also answer HTTP 503 with
 * `Retry-After`); GraphQL's own request errors get a code too; anything
 * else is a bug, masked as `INTERNAL_SERVER_ERROR` and logged.
 *
 * @module
 */
import { GraphQLError } from "graphql";
import type { MaskError } from "graphql-yoga";
import {
  ClientError,
  type ErrorCode,
  isClientError,
  RETRYABLE_CODES,
} from "../lib/mod.ts";

/** HTTP status of a GraphQL response carrying only this error. */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  CSRF_HEADER_REQUIRED: 403,
  NOT_ACCEPTABLE: 406,
};

/**
 * The `extensions` of a client error: its code, its details, and for a
 * retryable code the HTTP answer (503 + `Retry-After: 1`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError } from "../lib/mod.ts";
 * assert.deepEqual(clientExtensions(clientError("OVERLOADED", "Busy", { limit: 16 })), {
 *   code: "OVERLOADED",
 *   limit: 16,
 *   http: { status: 503, headers: { "Retry-After": "1" } },
 * });
 * assert.deepEqual(clientExtensions(clientError("BAD_USER_INPUT", "Bad size")), {
 *   code: "BAD_USER_INPUT",
 * });
 * ```
 */
export function clientExtensions(error: ClientError): Record<string, unknown> {
  const extensions: Record<string, unknown> = {
    code: error.code,
    ...error.details,
  };
  extensions.code = error.code;
  if (RETRYABLE_CODES.has(error.code)) {
    // A full job queue says how long to wait (`retryAfterS`); else 1 s.
    const retryAfter = error.details.retryAfterS;
    extensions.http = {
      status: 503,
      headers: {
        "Retry-After": String(typeof retryAfter === "number" ? retryAfter : 1),
      },
    };
  } else if (HTTP_STATUS[error.code]) {
    extensions.http = { status: HTTP_STATUS[error.code] };
  }
  return extensions;
}

/**
 * A `GraphQLError` for a client error (outside execution, e.g. in a plugin).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError } from "../lib/mod.ts";
 * const error = toGraphQLError(clientError("QUERY_TOO_COMPLEX", "Query is too deep"));
 * assert.equal(error.message, "Query is too deep");
 * assert.deepEqual(error.extensions, { code: "QUERY_TOO_COMPLEX" });
 * ```
 */
export function toGraphQLError(error: ClientError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: clientExtensions(error),
  });
}

/** Where a GraphQL request error came from, for its code. */
function requestErrorCode(error: GraphQLError): string | null {
  if (error.message.startsWith("Syntax Error")) return "GRAPHQL_PARSE_FAILED";
  if (
    /^Variable "\$[^"]+" (got invalid value|of required type|of non-null type)/
      .test(error.message)
  ) {
    return "BAD_USER_INPUT";
  }
  if (error.nodes && !error.path) return "GRAPHQL_VALIDATION_FAILED";
  return null;
}

/** Options of {@linkcode maskErrors}. */
export interface MaskOptions {
  /** Out of production, a masked error keeps its message and stack in `extensions.originalError`. */
  isDev: boolean;
  /** Called with every masked (unexpected) error. */
  onMasked?: (error: unknown) => void;
}

/**
 * yoga's `maskError`: client errors mapped, request errors coded, the rest
 * masked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * import { clientError } from "../lib/mod.ts";
 * const schema = createSchema({
 *   typeDefs: "type Query { bug: String, busy: String }",
 *   resolvers: {
 *     Query: {
 *       bug: () => {
 *         throw new TypeError("x is undefined");
 *       },
 *       busy: () => {
 *         throw clientError("OVERLOADED", "The server is busy");
 *       },
 *     },
 *   },
 * });
 * const masked: unknown[] = [];
 * const yoga = createYoga({
 *   schema,
 *   maskedErrors: { maskError: maskErrors({ isDev: false, onMasked: (e) => masked.push(e) }) },
 *   logging: false,
 * });
 * const query = async (text: string) =>
 *   (await yoga.fetch(`http://localhost/graphql?query=${encodeURIComponent(text)}`)).json();
 * const bug = await query("{ bug }");
 * assert.equal(bug.errors[0].extensions.code, "INTERNAL_SERVER_ERROR");
 * assert.equal(bug.errors[0].message, "Unexpected error."); // the real one is logged
 * assert.equal((masked[0] as Error).message, "x is undefined");
 * const busy = await query("{ busy }");
 * assert.equal(busy.errors[0].extensions.code, "OVERLOADED");
 * assert.equal(busy.errors[0].message, "The server is busy");
 * ```
 */
export function maskErrors(options: MaskOptions): MaskError {
  return (error, message) => {
    const original = error instanceof GraphQLError
      ? error.originalError
      : error;
    if (isClientError(original)) {
      const graphql = error instanceof GraphQLError ? error : null;
      return new GraphQLError(original.message, {
        nodes: graphql?.nodes ?? null,
        source: graphql?.source,
        positions: graphql?.positions,
        path: graphql?.path,
        extensions: clientExtensions(original),
      });
    }
    // GraphQL's own errors (parsing, validation, coercing variables) may
    // wrap another GraphQLError: still the request's fault, not a bug.
    if (
      error instanceof GraphQLError &&
      (!error.originalError || error.originalError instanceof GraphQLError)
    ) {
      if (typeof error.extensions?.code === "string") return error;
      const code = requestErrorCode(error);
      if (code === null) return error;
      return new GraphQLError(error.message, {
        nodes: error.nodes ?? null,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: { ...error.extensions, code },
      });
    }
    if (original instanceof DOMException && original.name === "AbortError") {
      // The client left or the response was complete: nobody reads this,
      // and it is not a bug.
      return new GraphQLError(original.message, {
        path: error instanceof GraphQLError ? error.path : null,
        extensions: { code: "REQUEST_ABORTED" },
      });
    }
    options.onMasked?.(original);
    return new GraphQLError(message, {
      nodes: error instanceof GraphQLError ? error.nodes ?? null : null,
      path: error instanceof GraphQLError ? error.path : null,
      extensions: {
        code: "INTERNAL_SERVER_ERROR",
        ...(options.isDev && original instanceof Error
          ? { originalError: { message: original.message } }
          : {}),
      },
    });
  };
}
