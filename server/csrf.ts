/**
 * CSRF prevention: a request a browser could send cross-site without a
 * CORS preflight (a GET, or a POST of a form, multipart or text/plain
 * body) must carry one of the CSRF headers — browsers cannot add them
 * cross-site without a preflight. Without one: HTTP 403 with a GraphQL
 * error coded `CSRF_HEADER_REQUIRED` that names the headers. (The server
 * reads or discards the request body before answering, so a client still
 * uploading sees the 403 rather than a broken pipe: `serve.ts`.)
 *
 * @module
 */
import type { Plugin } from "graphql-yoga";
import { clientError } from "../lib/mod.ts";
import { toGraphQLError } from "../schema/mod.ts";

/**
 * Headers any one of which lets a multipart, form or text/plain POST (or a
 * GET) through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A browser's upload: fetch("/graphql", { method: "POST", body: form, headers })
 * const headers = { [CSRF_HEADERS[0]]: "1" };
 * assert.deepEqual(headers, { "x-graphql-yoga-csrf": "1" });
 * ```
 */
export const CSRF_HEADERS: readonly string[] = [
  "x-graphql-yoga-csrf",
  "apollo-require-preflight",
];

const SIMPLE_CONTENT_TYPES = [
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "text/plain",
];

/**
 * Whether a browser may send this request cross-site without a preflight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(needsCsrfHeader(new Request("http://x/graphql?query={__typename}")), true);
 * const json = new Request("http://x/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" }, // needs a preflight
 *   body: "{}",
 * });
 * assert.equal(needsCsrfHeader(json), false);
 * ```
 */
export function needsCsrfHeader(request: Request): boolean {
  const type = request.headers.get("content-type")?.toLowerCase();
  return !type || SIMPLE_CONTENT_TYPES.some((t) => type.startsWith(t));
}

/**
 * The CSRF check, before yoga reads the request's parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "hi" } } });
 * const yoga = createYoga({ schema, plugins: [useCsrfHeader()] });
 * const url = "http://localhost/graphql?query={hello}";
 * const refused = await yoga.fetch(url);
 * assert.equal(refused.status, 403);
 * assert.equal((await refused.json()).errors[0].extensions.code, "CSRF_HEADER_REQUIRED");
 * const answered = await yoga.fetch(url, { headers: { "x-graphql-yoga-csrf": "1" } });
 * assert.deepEqual((await answered.json()).data, { hello: "hi" });
 * ```
 */
export function useCsrfHeader(
  headers: readonly string[] = CSRF_HEADERS,
): Plugin {
  return {
    onRequestParse({ request }) {
      if (!needsCsrfHeader(request)) return;
      if (headers.some((name) => request.headers.has(name))) return;
      throw toGraphQLError(clientError(
        "CSRF_HEADER_REQUIRED",
        `This request needs a CSRF header: send ${
          headers.map((h) => `"${h}"`).join(" or ")
        } (any value, e.g. "${
          headers[0]
        }: 1") with GET, multipart, form and text/plain requests`,
        { headers },
      ));
    },
  };
}
