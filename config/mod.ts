/**
 * Configuration from flags and environment, shared by the server, the job
 * worker and the CLI: one `UsageError`, one set of validators, model specs
 * and explainer plugins.
 *
 * @example
 * ```ts
 * import { parseServerConfig } from "./config/mod.ts";
 * const config = parseServerConfig(Deno.args, Deno.env.toObject());
 * ```
 *
 * @module
 */
export * from "./flags.ts";
export * from "./jobs.ts";
export * from "./models.ts";
export * from "./server.ts";
export * from "./worker.ts";
