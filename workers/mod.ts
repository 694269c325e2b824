/**
 * Where model work runs: the explanation service (admission by cost, the
 * scheduler's lanes) over an executor — in this process for the CLI, tools
 * and tests, in supervised worker processes for the server.
 *
 * @example
 * ```ts
 * import { createLocalService } from "./workers/mod.ts";
 * const service = createLocalService({ models, registry });
 * const outcome = await service.explain({ ...checked, image: bytes });
 * ```
 *
 * @module
 */
export * from "./service.ts";
export * from "./scheduler.ts";
export * from "./calls.ts";
export * from "./dispatch.ts";
export * from "./local.ts";
export * from "./pool.ts";
export * from "./priority.ts";
export * from "./protocol.ts";
