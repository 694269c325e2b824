/**
 * Configuration from flags and environment, shared by the server, the job
 * worker and the CLI: one `UsageError`, one set of validators, model specs
 * and explainer plugins.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServerConfig } from "./mod.ts";
 * const config = parseServerConfig(["--port", "9000"], {}); // Deno.args, Deno.env.toObject()
 * assert.equal(config.port, 9000);
 * ```
 *
 * @module
 */
export * from "./flags.ts";
export * from "./jobs.ts";
export * from "./models.ts";
export * from "./server.ts";
export * from "./worker.ts";
