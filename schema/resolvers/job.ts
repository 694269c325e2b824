/**
 * `Query.job` and `Mutation.cancelJob`: a job by id (any replica answers
 * any job), and its cancellation.
 *
 * @module
 */
import type { LumenContext } from "../context.ts";
import { jobObject, type JobResult, jobsOf } from "./job_object.ts";

/**
 * Resolves `job(id)`: `JOB_NOT_FOUND` for an unknown or expired id,
 * `UNAVAILABLE` while the job store cannot be reached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execute, parse } from "graphql";
 * import { embeddedJobs } from "../../jobs/mod.ts";
 * import { lumenSchema } from "../schema.ts";
 * // lumenSchema() wires it (`Query: { job }`); it reads only the job queue.
 * const queue = embeddedJobs(); // no worker: the job stays queued
 * const { id } = await queue.start({}, { labels: ["scorecam"] });
 * const read = async (query: string) =>
 *   JSON.parse(JSON.stringify(
 *     await execute({
 *       schema: lumenSchema(),
 *       document: parse(query),
 *       contextValue: { lumen: { jobs: { queue, maxPasses: 10_000 } } },
 *     }),
 *   )); // the response, as JSON
 * const found = await read(`{ job(id: "${id}") { state methods } }`);
 * assert.deepEqual(found.data.job, { state: "queued", methods: ["scorecam"] });
 * const missing = await read(`{ job(id: "V1StGXR8_Z5jdHi6B-myTw") { state } }`);
 * assert.match(missing.errors[0].message, /was not found/);
 * await queue.close();
 * ```
 */
export async function job(
  _root: unknown,
  args: { id: string },
  context: LumenContext,
): Promise<JobResult> {
  return jobObject(await jobsOf(context).queue.get(args.id));
}

/**
 * Resolves `cancelJob(id)`: a queued job ends `cancelled` at once; a
 * running one's work stops at its next batch (the answer waits for that,
 * briefly); a finished job comes back unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execute, parse } from "graphql";
 * import { embeddedJobs } from "../../jobs/mod.ts";
 * import { lumenSchema } from "../schema.ts";
 * // lumenSchema() wires it (`Mutation: { cancelJob }`).
 * const queue = embeddedJobs(); // no worker: the job stays queued
 * const { id } = await queue.start({}, { labels: ["scorecam"] });
 * const result = await execute({
 *   schema: lumenSchema(),
 *   document: parse(`mutation { cancelJob(id: "${id}") { state errorCode } }`),
 *   contextValue: { lumen: { jobs: { queue, maxPasses: 10_000 } } },
 * });
 * const { data } = JSON.parse(JSON.stringify(result)); // the response, as JSON
 * assert.deepEqual(data.cancelJob, { state: "cancelled", errorCode: "CANCELLED" });
 * await queue.close();
 * ```
 */
export async function cancelJob(
  _root: unknown,
  args: { id: string },
  context: LumenContext,
): Promise<JobResult> {
  return jobObject(await jobsOf(context).queue.cancel(args.id));
}
