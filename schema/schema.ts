/**
 * The executable GraphQL schema: the SDL in `schema.graphql` and one thin
 * resolver per root field.
 *
 * @module
 */
import { createSchema } from "graphql-yoga";
import type { LumenContext } from "./context.ts";
import { explain } from "./resolvers/explain.ts";
import { explainMany } from "./resolvers/explain_many.ts";
import { explainProgress } from "./resolvers/explain_progress.ts";
import { explainers } from "./resolvers/explainers.ts";
import { cancelJob, job } from "./resolvers/job.ts";
import { startExplanation } from "./resolvers/job_start.ts";
import { jobUpdates } from "./resolvers/job_updates.ts";
import { model, models } from "./resolvers/model.ts";
import { predict } from "./resolvers/predict.ts";
import { sanityCheck } from "./resolvers/sanity_check.ts";
import { JSONScalar } from "./scalars.ts";

const typeDefs = await Deno.readTextFile(
  new URL("./schema.graphql", import.meta.url),
);

/**
 * Builds the schema (resolvers read their services from the context).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The server: createYoga({ schema: lumenSchema(), context: () => ({ lumen, scope }) })
 * const schema = lumenSchema();
 * assert.deepEqual(Object.keys(schema.getMutationType()?.getFields() ?? {}), [
 *   "startExplanation",
 *   "cancelJob",
 * ]);
 * assert.ok(schema.getQueryType()?.getFields().explain);
 * ```
 */
export function lumenSchema(): ReturnType<
  typeof createSchema<Record<string, unknown> & LumenContext>
> {
  return createSchema<Record<string, unknown> & LumenContext>({
    typeDefs,
    resolvers: {
      JSON: JSONScalar,
      Query: {
        explain,
        explainMany,
        predict,
        sanityCheck,
        explainers,
        model,
        models,
        job,
      },
      Mutation: { startExplanation, cancelJob },
      Subscription: { explainProgress, jobUpdates },
    },
  });
}
