/**
 * `Subscription.jobUpdates`: a job as it changes, over server-sent events.
 * The job queue coalesces changes (a slow reader gets the latest), and the
 * stream ends after the final state. It is not bound by the request time
 * limit (a job may run for minutes), only by the client leaving or the
 * server stopping (the queue then ends its followers with
 * `SHUTTING_DOWN`: reconnect to another replica). An unknown id answers a
 * single result with `JOB_NOT_FOUND`.
 *
 * @module
 */
import type { ExplanationResult } from "../../jobs/explanation/mod.ts";
import type { Job } from "../../jobs/mod.ts";
import type { LumenContext } from "../context.ts";
import { jobObject, type JobResult, jobsOf } from "./job_object.ts";

type Snapshot = Job<ExplanationResult>;

async function* follow(
  first: Snapshot,
  rest: AsyncIterableIterator<Snapshot>,
): AsyncGenerator<Snapshot> {
  try {
    yield first;
    for await (const job of rest) yield job;
  } finally {
    await rest.return?.();
  }
}

/**
 * Resolves `jobUpdates(id)`: the job's snapshot now (so an unknown id
 * fails before the stream starts), then each change.
 *
 * @example
 * ```ts
 * const resolvers = { Subscription: { jobUpdates } };
 * ```
 */
export const jobUpdates = {
  async subscribe(
    _root: unknown,
    args: { id: string },
    context: LumenContext,
  ): Promise<AsyncGenerator<Snapshot>> {
    const updates = jobsOf(context).queue.updates(args.id);
    let first: IteratorResult<Snapshot>;
    try {
      first = await updates.next();
    } catch (error) {
      await updates.return?.();
      throw error;
    }
    if (first.done) throw new Error(`The updates of job "${args.id}" ended`);
    return follow(first.value, updates);
  },
  resolve(job: Snapshot): JobResult {
    return jobObject(job);
  },
};
