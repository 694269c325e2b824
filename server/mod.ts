/**
 * The HTTP side: the app (`createApp`: GraphQL, probes, metrics, the web
 * page, CORS and CSRF rules, request ids and logs), and serving it over
 * HTTP/1.1 (`serveHttp`).
 *
 * @example
 * ```ts
 * import { createApp, serveHttp } from "./server/mod.ts";
 * const app = createApp({ service, registry });
 * const server = await serveHttp(app.fetch, { port: 8000 });
 * ```
 *
 * @module
 */
export * from "./app.ts";
export * from "./serve.ts";
export * from "./csrf.ts";
export * from "./cors.ts";
export * from "./url_input.ts";
export { createMetrics, type Metrics } from "./metrics.ts";
