/**
 * The Lumen GraphQL API: {@linkcode createApp} builds the HTTP app that
 * `main.ts` serves.
 *
 * @example
 * ```ts
 * import { createApp } from "./schema/mod.ts";
 * const app = createApp({ runtime: () => runtime, registry: createRegistry() });
 * Deno.serve(app.fetch);
 * ```
 *
 * @module
 */
export * from "./app.ts";
export * from "./context.ts";
export * from "./log.ts";
