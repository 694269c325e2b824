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
 * import assert from "node:assert/strict";
 * assert.equal(acceptsParts("application/json"), false);
 * assert.equal(acceptsParts("multipart/mixed, application/json"), true);
 * assert.equal(acceptsParts(null), true); // no header: anything goes
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
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "hi" } } });
 * const yoga = createYoga({ schema, plugins: [useDeferStream(), useIncrementalAccept()] });
 * const response = await yoga.fetch("http://localhost/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json", accept: "application/json" },
 *   body: JSON.stringify({ query: "{ ... @defer { hello } }" }),
 * });
 * const { errors } = await response.json();
 * assert.equal(errors[0].extensions.code, "NOT_ACCEPTABLE");
 * assert.match(errors[0].message, /send "Accept: multipart\/mixed"/);
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
