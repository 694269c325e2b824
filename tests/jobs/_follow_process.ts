/**
 * A second API replica for the Redis tests: follows one job through its own
 * connections and prints every snapshot as a JSON line, then exits.
 *
 * Usage: `_follow_process.ts <redis url> <queue options as JSON> <job id>`
 *
 * @module
 */
import { redisJobs, type RedisJobsOptions } from "../../jobs/mod.ts";

const [url, json, id] = Deno.args;
const jobs = redisJobs(url, JSON.parse(json) as RedisJobsOptions);
for await (const job of jobs.updates(id)) console.log(JSON.stringify(job));
await jobs.close();
