/**
 * CPU time a request costs every process it touches (the server, its model
 * workers, this client), where wall time on shared cores hides it: the
 * server's `/metrics` (`process_cpu_seconds_total`,
 * `lumen_worker_cpu_seconds_total`) and this process's own count.
 *
 * @module
 */
import { processCpuSeconds } from "../../lib/mod.ts";

function sample(text: string, name: string): number {
  const value = text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1];
  if (value === undefined) throw new Error(`/metrics has no ${name}`);
  return Number(value);
}

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
  const text = await (await fetch(`${base}/metrics`)).text();
  const server = sample(text, "process_cpu_seconds_total") +
    sample(text, "lumen_worker_cpu_seconds_total");
  return (server + processCpuSeconds()) * 1e3;
}
