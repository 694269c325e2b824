/**
 * The routes beside `/graphql`, as yoga plugins in the style of yoga's own
 * `useReadinessCheck`: `/health` (the process answers), `/ready` (the
 * model is loaded and the server is not stopping), `/metrics`
 * (Prometheus) and the web page. Each answers from memory, in
 * milliseconds, whatever the model is doing: model work runs elsewhere.
 *
 * @module
 */
import type { Plugin } from "graphql-yoga";
import { PROMETHEUS_CONTENT_TYPE } from "../lib/mod.ts";
import type { ServiceState } from "../workers/mod.ts";
import type { WebHandler } from "../web/mod.ts";

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * `GET /health`: 200 `ok` while the process runs (a liveness probe).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }" });
 * const yoga = createYoga({
 *   schema,
 *   plugins: [useHealth()],
 *   healthCheckEndpoint: "/.yoga/health", // yoga's own check would answer /health first
 * });
 * const response = await yoga.fetch("http://localhost/health");
 * assert.equal(response.status, 200);
 * assert.equal(await response.text(), "ok");
 * ```
 */
export function useHealth(endpoint = "/health"): Plugin {
  return {
    onRequest({ url, endResponse }) {
      if (url.pathname === endpoint) {
        endResponse(new Response("ok", { status: 200 }));
      }
    },
  };
}

/**
 * `GET /ready`: 200 with the engine once the default model is loaded; 503
 * while loading (`loading`), after a failed load (`failed` and why) and
 * while stopping (`stopping`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * import type { ServiceState } from "../workers/mod.ts";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }" });
 * let state: ServiceState = { state: "loading" }; // the server passes service.state
 * const yoga = createYoga({ schema, plugins: [useReady({ state: () => state, stopping: () => false })] });
 * const loading = await yoga.fetch("http://localhost/ready");
 * assert.equal(loading.status, 503);
 * assert.deepEqual(await loading.json(), { status: "loading" });
 * state = { state: "failed", error: "Cannot load model" };
 * const failed = await yoga.fetch("http://localhost/ready");
 * assert.deepEqual([failed.status, await failed.json()], [503, {
 *   status: "failed",
 *   error: "Cannot load model",
 * }]);
 * ```
 */
export function useReady(
  options: { state: () => ServiceState; stopping: () => boolean },
  endpoint = "/ready",
): Plugin {
  return {
    onRequest({ url, endResponse }) {
      if (url.pathname !== endpoint) return;
      const state = options.state();
      if (options.stopping()) {
        return endResponse(json({ status: "stopping" }, 503));
      }
      switch (state.state) {
        case "ready":
          return endResponse(json({
            status: "ready",
            model: state.model.name,
            backend: state.model.backend.name,
            adapter: state.model.backend.adapter,
          }, 200));
        case "failed":
          return endResponse(
            json({ status: "failed", error: state.error }, 503),
          );
        case "loading":
          return endResponse(json({ status: "loading" }, 503));
      }
    },
  };
}

/**
 * `GET /metrics`: the Prometheus text `render` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }" });
 * // The server renders its metrics: useMetrics(() => metrics.render(sources))
 * const render = () => "# TYPE lumen_up gauge\nlumen_up 1\n";
 * const yoga = createYoga({ schema, plugins: [useMetrics(render)] });
 * const response = await yoga.fetch("http://localhost/metrics");
 * assert.equal(await response.text(), render());
 * assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
 * ```
 */
export function useMetrics(
  render: () => string,
  endpoint = "/metrics",
): Plugin {
  return {
    onRequest({ url, endResponse }) {
      if (url.pathname === endpoint) {
        endResponse(
          new Response(render(), {
            headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
          }),
        );
      }
    },
  };
}

/**
 * The web page and its assets (`web/`), before GraphQL sees the request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * import { createWebHandler } from "../web/mod.ts";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }" });
 * const yoga = createYoga({ schema, plugins: [useWebPage(createWebHandler())] });
 * const css = await yoga.fetch("http://localhost/assets/app.css"); // GraphQL never sees it
 * assert.equal(css.status, 200);
 * assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
 * await css.body?.cancel();
 * ```
 */
export function useWebPage(web: WebHandler): Plugin {
  return {
    async onRequest({ request, endResponse }) {
      const page = web(request);
      if (page) endResponse(await page);
    },
  };
}
