/**
 * The GraphQL door: the schema (SDL and thin resolvers over the explanation
 * service), query limits, the one mapping of client errors to GraphQL
 * errors, error counting. The server (`server/`) builds yoga with these.
 *
 * @example
 * ```ts
 * import { lumenSchema, maskErrors } from "./schema/mod.ts";
 * createYoga({ schema: lumenSchema(), maskedErrors: { maskError: maskErrors({ isDev: false }) } });
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
