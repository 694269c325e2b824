/**
 * Lumen's own yoga plugins: error counting by code (for `/metrics` and the
 * request log) and turning introspection off.
 *
 * @module
 */
import { type GraphQLError, NoSchemaIntrospectionCustomRule } from "graphql";
import { isAsyncIterable, mapAsyncIterator, type Plugin } from "graphql-yoga";
import type { RequestScope, ResolverMetrics } from "./context.ts";

interface Payload {
  errors?: readonly GraphQLError[];
  incremental?: readonly { errors?: readonly GraphQLError[] }[];
}

/**
 * The code an error is counted under: `extensions.code`, else
 * `HTTP_<status>` for request-level errors (e.g. `HTTP_403` for a missing
 * CSRF header), else `NONE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphQLError } from "graphql";
 * assert.equal(errorCode(new GraphQLError("x", { extensions: { code: "OVERLOADED" } })), "OVERLOADED");
 * assert.equal(errorCode(new GraphQLError("x", { extensions: { http: { status: 403 } } })), "HTTP_403");
 * assert.equal(errorCode(new GraphQLError("x")), "NONE");
 * ```
 */
export function errorCode(error: GraphQLError): string {
  const code = error.extensions?.code;
  if (typeof code === "string") return code;
  const http = error.extensions?.http as { status?: number } | undefined;
  return http?.status ? `HTTP_${http.status}` : "NONE";
}

/**
 * Counts every GraphQL error sent, by code, in `metrics` and in the
 * request scope (`codes`, for the request log); incremental payloads
 * included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * import { GraphQLError } from "graphql";
 * const schema = createSchema({
 *   typeDefs: "type Query { busy: String }",
 *   resolvers: {
 *     Query: {
 *       busy: () => {
 *         throw new GraphQLError("Busy", { extensions: { code: "OVERLOADED" } });
 *       },
 *     },
 *   },
 * });
 * const codes: string[] = []; // the server's metrics count them for /metrics
 * const metrics = { job() {}, explained() {}, error: (code: string) => codes.push(code) };
 * const yoga = createYoga({ schema, plugins: [useErrorCounting(metrics)] });
 * const response = await yoga.fetch("http://localhost/graphql?query={busy}");
 * await response.body?.cancel();
 * assert.deepEqual(codes, ["OVERLOADED"]);
 * ```
 */
export function useErrorCounting(metrics: ResolverMetrics): Plugin {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      const scope = (serverContext as { scope?: RequestScope }).scope;
      const count = (payload: Payload) => {
        const errors = [
          ...payload.errors ?? [],
          ...(payload.incremental ?? []).flatMap((i) => i.errors ?? []),
        ];
        for (const error of errors) {
          const code = errorCode(error);
          metrics.error(code);
          scope?.codes.push(code);
        }
      };
      if (isAsyncIterable(result)) {
        setResult(mapAsyncIterator(result, (payload) => {
          count(payload as Payload);
          return payload;
        }));
      } else {
        for (const payload of Array.isArray(result) ? result : [result]) {
          count(payload as Payload);
        }
      }
    },
  };
}

/**
 * Refuses introspection (`__schema`, `__type`) at validation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }" });
 * const production = true;
 * const yoga = createYoga({ schema, plugins: production ? [useNoIntrospection()] : [] });
 * const response = await yoga.fetch("http://localhost/graphql?query={__schema{types{name}}}");
 * const { errors } = await response.json();
 * assert.match(errors[0].message, /introspection/);
 * ```
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
