/**
 * CPU time a request costs every process it touches (the server, its model
 * workers, this client), where wall time on shared cores hides it: the
 * server's `/metrics` (`process_cpu_seconds_total`,
 * `lumen_worker_cpu_seconds_total`) and this process's own count.
 *
 * @module
 */
import { processCpuSeconds } from "../../lib/mod.ts";
import { metricsAt } from "./server.ts";

const SERVER_CPU = [
  "process_cpu_seconds_total",
  "lumen_worker_cpu_seconds_total",
];

/**
 * CPU time so far of the server at `base`, its model workers (as of their
 * last answers) and this process, in ms.
 *
 * @example
 * ```ts ignore
 * const before = await cpuNow(server.base);
 * await server.graphql(query, variables);
 * const ms = (await cpuNow(server.base)) - before;
 * ```
 */
export async function cpuNow(base: string): Promise<number> {
  const seconds = await metricsAt(base, SERVER_CPU);
  seconds.forEach((s, i) => {
    if (Number.isNaN(s)) throw new Error(`/metrics has no ${SERVER_CPU[i]}`);
  });
  return (seconds[0] + seconds[1] + processCpuSeconds()) * 1e3;
}
