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
 * import assert from "node:assert/strict";
 * import { parse, subscribe } from "graphql";
 * import { embeddedJobs } from "../../jobs/mod.ts";
 * import { lumenSchema } from "../schema.ts";
 * // lumenSchema() wires it (`Subscription: { jobUpdates }`).
 * const queue = embeddedJobs(); // no worker: the job stays queued
 * const { id } = await queue.start({}, { labels: ["scorecam"] });
 * await queue.cancel(id); // final: the stream ends after its snapshot
 * const stream = await subscribe({
 *   schema: lumenSchema(),
 *   document: parse(`subscription { jobUpdates(id: "${id}") { state } }`),
 *   contextValue: { lumen: { jobs: { queue, maxPasses: 10_000 } } },
 * });
 * const states: unknown[] = [];
 * for await (const update of stream as AsyncIterable<unknown>) {
 *   states.push(JSON.parse(JSON.stringify(update)).data.jobUpdates); // as sent
 * }
 * assert.deepEqual(states, [{ state: "cancelled" }]);
 * await queue.close();
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
