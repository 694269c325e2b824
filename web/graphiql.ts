/**
 * GraphiQL that works offline. Yoga's built-in page loads GraphiQL from a
 * CDN (unpkg.com); `@graphql-yoga/render-graphiql` (same version as yoga)
 * inlines the scripts, styles and editor workers into the page instead, so
 * `/graphql` works on a machine with no internet access. Every request it
 * sends carries the CSRF header, so uploads and subscriptions (server-sent
 * events) work from it too.
 *
 * @module
 */
import type { GraphiQLOptions } from "graphql-yoga";

/**
 * Stands for the server's own address in GraphiQL's default query: the
 * page puts its `location.origin` there, so a curl line shown with it works
 * as is on whatever host and port the server runs.
 */
export const ORIGIN_MARK = "$LUMEN_ORIGIN";

/**
 * Headers GraphiQL adds to every request: the CSRF header the server
 * requires of multipart uploads and of GET requests, such as the one
 * GraphiQL opens for a subscription's event stream.
 */
export const GRAPHIQL_HEADERS: Readonly<Record<string, string>> = Object
  .freeze({ "x-graphql-yoga-csrf": "1" });

/**
 * GraphiQL's options with the CSRF header added (the caller's own
 * `additionalHeaders` kept).
 *
 * @example
 * ```ts
 * graphiqlOptions({ title: "Lumen" }).additionalHeaders; // { "x-graphql-yoga-csrf": "1" }
 * ```
 */
export function graphiqlOptions(
  options: GraphiQLOptions = {},
): GraphiQLOptions {
  return {
    ...options,
    additionalHeaders: { ...GRAPHIQL_HEADERS, ...options.additionalHeaders },
  };
}

/**
 * The page's options are written into its script as a JSON literal; each
 * {@linkcode ORIGIN_MARK} inside a string there becomes the page's own
 * origin when the script runs.
 */
function withOrigin(html: string): string {
  return html.replaceAll(ORIGIN_MARK, '" + location.origin + "');
}

let last: { key: string; html: Promise<string> } | null = null;

/**
 * Renders GraphiQL with every asset inline (about 9 MB of HTML), sending
 * {@linkcode GRAPHIQL_HEADERS} with every request, and with the page's own
 * origin in place of {@linkcode ORIGIN_MARK} in the default query. The
 * renderer, a large module, is imported on first use, and the page is kept
 * for the last options seen: yoga passes the same options on every request.
 * Pass it to `createYoga({ renderGraphiQL })`.
 *
 * @example
 * ```ts
 * const yoga = createYoga({ schema, renderGraphiQL: renderOfflineGraphiQL });
 * ```
 */
export function renderOfflineGraphiQL(
  options: GraphiQLOptions = {},
): Promise<string> {
  const key = JSON.stringify(options);
  if (last?.key !== key) {
    const html = import("@graphql-yoga/render-graphiql").then((module) =>
      withOrigin(module.renderGraphiQL(graphiqlOptions(options)))
    );
    const entry = { key, html };
    last = entry;
    html.catch(() => {
      if (last === entry) last = null;
    });
  }
  return last!.html;
}
