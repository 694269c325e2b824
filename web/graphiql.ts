/**
 * GraphiQL that works offline. Yoga's built-in page loads GraphiQL from a
 * CDN (unpkg.com); `@graphql-yoga/render-graphiql` (same version as yoga)
 * inlines the scripts, styles and editor workers into the page instead, so
 * `/graphql` works on a machine with no internet access.
 *
 * @module
 */
import type { GraphiQLOptions } from "graphql-yoga";

let last: { key: string; html: Promise<string> } | null = null;

/**
 * Renders GraphiQL with every asset inline (about 9 MB of HTML). The
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
      module.renderGraphiQL(options)
    );
    const entry = { key, html };
    last = entry;
    html.catch(() => {
      if (last === entry) last = null;
    });
  }
  return last!.html;
}
