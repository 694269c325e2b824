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
 * const resolvers = { Query: { job } };
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
 * const resolvers = { Mutation: { cancelJob } };
 * ```
 */
export async function cancelJob(
  _root: unknown,
  args: { id: string },
  context: LumenContext,
): Promise<JobResult> {
  return jobObject(await jobsOf(context).queue.cancel(args.id));
}
