/**
 * The HTTP side: the app (`createApp`: GraphQL, probes, metrics, the web
 * page, CORS and CSRF rules, request ids and logs), and serving it over
 * HTTP/1.1 (`serveHttp`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { createModelSet, modelEntries, SHIPPED_MODEL } from "../models/mod.ts";
 * import { createLocalService } from "../workers/mod.ts";
 * import { createApp, serveHttp } from "./mod.ts";
 * // main.ts loads a real model; here its file is missing: the server answers anyway.
 * const models = createModelSet(modelEntries([{ ...SHIPPED_MODEL, path: "no-such-model.onnx" }]));
 * const registry = createRegistry();
 * const service = createLocalService({ models, registry });
 * const app = createApp({ service, registry });
 * const server = await serveHttp(app.fetch, { hostname: "127.0.0.1", port: 0 }); // main.ts: port 8000
 * const health = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * assert.equal(await health.text(), "ok");
 * await server.shutdown();
 * await service.close();
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
