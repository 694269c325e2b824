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
 * createYoga({ schema, plugins: [useHealth()] });
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
 * createYoga({ schema, plugins: [useReady({ state: service.state, stopping: () => false })] });
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
 * createYoga({ schema, plugins: [useMetrics(() => metrics.render(sources))] });
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
 * createYoga({ schema, plugins: [useWebPage(createWebHandler())] });
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
