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
 * errorCode(new GraphQLError("x", { extensions: { code: "OVERLOADED" } })); // "OVERLOADED"
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
 * createYoga({ schema, plugins: [useErrorCounting(metrics)] });
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
 * createYoga({ schema, plugins: production ? [useNoIntrospection()] : [] });
 * ```
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
