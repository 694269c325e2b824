/**
 * `@defer` and `@stream` answer in parts (`multipart/mixed`, or
 * `text/event-stream`); a client that accepts only JSON cannot read them.
 * Rather than an empty HTTP 406, such a request gets a GraphQL error coded
 * `NOT_ACCEPTABLE` that says which `Accept` to send, before any work.
 *
 * @module
 */
import { type DocumentNode, Kind, visit } from "graphql";
import type { Plugin } from "graphql-yoga";
import { clientError } from "../lib/mod.ts";
import { toGraphQLError } from "../schema/mod.ts";

const INCREMENTAL_TYPES = ["multipart/mixed", "text/event-stream"];

/** Whether the document asks for `@defer` or `@stream`. */
function usesIncrementalDelivery(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.DIRECTIVE](node) {
      if (node.name.value === "defer" || node.name.value === "stream") {
        found = true;
      }
    },
  });
  return found;
}

/**
 * Whether an `Accept` header lets the answer come in parts: no header, a
 * wildcard, or one of the incremental types.
 *
 * @example
 * ```ts
 * acceptsParts("application/json"); // false
 * acceptsParts("multipart/mixed, application/json"); // true
 * ```
 */
export function acceptsParts(accept: string | null): boolean {
  if (!accept) return true;
  return accept.split(",").some((part) => {
    const type = part.split(";")[0].trim().toLowerCase();
    return type === "*/*" || type === "multipart/*" ||
      INCREMENTAL_TYPES.includes(type);
  });
}

/**
 * Refuses `@defer` / `@stream` to clients that accept only JSON.
 *
 * @example
 * ```ts
 * createYoga({ schema, plugins: [useIncrementalAccept()] });
 * ```
 */
export function useIncrementalAccept(): Plugin {
  return {
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const accept = request?.headers.get("accept") ?? null;
      if (acceptsParts(accept) || !usesIncrementalDelivery(args.document)) {
        return;
      }
      throw toGraphQLError(clientError(
        "NOT_ACCEPTABLE",
        `This query uses @defer or @stream, whose answer comes in parts: send "Accept: multipart/mixed" (or "text/event-stream"), not "${accept}"`,
        { accept: INCREMENTAL_TYPES },
      ));
    },
  };
}
