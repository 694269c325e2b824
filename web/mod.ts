/**
 * Lumen's web page, server side: the handler serving the page and its
 * bundle, and GraphiQL with its assets inline. The page itself (browser
 * code, built by `deno task build:web`) lives in `client/`.
 *
 * @module
 */
export * from "./graphiql.ts";
export * from "./serve.ts";
