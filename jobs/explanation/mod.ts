/**
 * The explanation job: the one kind of job Lumen runs. Its payload (a
 * request checked by `checkExplain` and its image), its plain-JSON result,
 * the runner over the explanation service, and the queue of a process
 * (embedded, or on Redis). Kept apart from `jobs/mod.ts`, which stays
 * generic and light (it loads no model code).
 *
 * @example
 * ```ts ignore
 * // Needs a loaded model's service (see workers/mod.ts).
 * import { openExplanationJobs } from "./mod.ts";
 * const jobs = openExplanationJobs(settings, { runHere: { service, registry }, log });
 * const job = await jobs.queue.start({ request: checked, image: base64 }, { labels: checked.methods });
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./runner.ts";
export * from "./open.ts";
