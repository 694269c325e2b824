/**
 * The GraphQL door: the schema (SDL and thin resolvers over the explanation
 * service), query limits, the one mapping of client errors to GraphQL
 * errors, error counting. The server (`server/`) builds yoga with these.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createYoga } from "graphql-yoga";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { lumenSchema, maskErrors } from "./mod.ts";
 * const yoga = createYoga({
 *   schema: lumenSchema(),
 *   maskedErrors: { maskError: maskErrors({ isDev: false }) },
 *   // The server's context holds every service (server/app.ts); `explainers` needs only these.
 *   context: { lumen: { registry: createRegistry() } },
 * });
 * const response = await yoga.fetch("http://localhost/graphql?query={explainers{name}}");
 * const { data } = await response.json();
 * assert.equal(data.explainers[1].name, "gradcam");
 * ```
 *
 * @module
 */
export * from "./context.ts";
export * from "./schema.ts";
export * from "./errors.ts";
export * from "./plugins.ts";
export * from "./query_limits.ts";
export { DEFAULT_QUERY } from "./default_query.ts";
