/**
 * Cross-origin access: off by default (the page and GraphiQL are served
 * from the same origin and need none). With `--cors-origin ORIGIN` the
 * listed origins — and only they — may call the API from a browser;
 * credentials are never allowed, so an allowed origin cannot act with the
 * visitor's cookies either.
 *
 * @module
 */
import type { CORSOptions } from "graphql-yoga";

/**
 * Checks an origin given on the command line: `scheme://host[:port]`, no
 * path, no wildcard.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(checkOrigin("https://app.example"), "https://app.example");
 * assert.throws(() => checkOrigin("*"), /Invalid origin "\*"/);
 * assert.throws(() => checkOrigin("https://app.example/"), /no path or trailing slash/);
 * ```
 */
export function checkOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(
      `Invalid origin "${origin}": use scheme://host[:port], e.g. https://app.example`,
    );
  }
  if (!["http:", "https:"].includes(url.protocol) || url.origin !== origin) {
    throw new Error(
      `Invalid origin "${origin}": use scheme://host[:port] with no path or trailing slash, e.g. ${url.origin}`,
    );
  }
  return origin;
}

/**
 * yoga's `cors` option for an allow-list: `false` (no CORS headers at all)
 * when it is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }" });
 * const yoga = createYoga({ schema, cors: corsOptions(["https://app.example"]) });
 * const preflight = (origin: string) =>
 *   yoga.fetch("http://localhost/graphql", {
 *     method: "OPTIONS",
 *     headers: { origin, "access-control-request-method": "POST" },
 *   });
 * const allowed = await preflight("https://app.example");
 * assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.example");
 * const other = await preflight("https://evil.example");
 * assert.notEqual(other.headers.get("access-control-allow-origin"), "https://evil.example");
 * assert.equal(corsOptions([]), false); // no CORS headers at all
 * ```
 */
export function corsOptions(origins: readonly string[]): CORSOptions | false {
  if (origins.length === 0) return false;
  return {
    origin: origins.map(checkOrigin),
    credentials: false,
    methods: ["GET", "POST", "OPTIONS"],
    allowedHeaders: [
      "content-type",
      "accept",
      "x-request-id",
      "x-graphql-yoga-csrf",
      "apollo-require-preflight",
    ],
    exposedHeaders: ["x-request-id", "retry-after"],
    maxAge: 600,
  };
}
