/**
 * The scale-out figure: occlusion jobs per minute with 1 and with 2
 * single-threaded job workers (`deno task worker --threads 1`) on this
 * machine, with the real ResNet-50, through the real path: a redis-server
 * started here, an API replica (`main.ts --redis`) that queues the jobs
 * (`startExplanation`), and worker processes that run them. Rounds
 * alternate 1 and 2 workers so that drift in the machine's load hits both.
 *
 * ```sh
 * deno run --allow-read --allow-env --allow-net=127.0.0.1 --allow-run tools/bench/jobs.ts --rounds 3
 * ```
 *
 * `jobBenchSection()` returns the markdown section for BENCHMARKS.md
 * (`deno task bench --jobs` includes it).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { decodeImage, encodeBase64, encodePng } from "../../lib/mod.ts";
import { jobBenchMarkdown } from "./jobs_report.ts";
import { freePort, type Proc, spawn } from "./processes.ts";
import { graphqlAt } from "./server.ts";
import { DENO, loadAverage, machine } from "./system.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Options of {@linkcode benchJobs}. */
export interface JobBenchOptions {
  /** Rounds per worker count. @default 3 */
  rounds?: number;
  /** Jobs per worker in each round. @default 4 */
  jobsPerWorker?: number;
  /**
   * Occlusion patch size and stride, input pixels.
   * @default { size: 32, stride: 16 } (the method's defaults: 13×13 patches)
   */
  occlusion?: { size: number; stride: number };
  /** The engine of the workers (`--backend`). @default "auto" */
  backend?: string;
  /** Progress lines. @default stderr */
  log?: (line: string) => void;
}

/** What {@linkcode benchJobs} measured. */
export interface JobBenchResult {
  date: string;
  machine: string;
  deno: string;
  /** The engine the workers ran, as they reported it. */
  engine: string;
  occlusion: { size: number; stride: number; passes: number };
  jobsPerWorker: number;
  /** Jobs per minute of each round, by worker count. */
  rates: Record<1 | 2, number[]>;
  /** Run time of each measured job, seconds, by worker count. */
  jobSeconds: Record<1 | 2, number[]>;
  /** The 1-minute load average before the runs and after each round. */
  loads: number[];
  /** Base64 image sent per job, and the stored result of one job (JSON), bytes. */
  payloadBytes: number;
  resultBytes: number;
}

function lumen(script: string, args: string[]): Proc {
  return spawn(DENO, [
    "run",
    "--quiet",
    "--allow-read",
    "--allow-env",
    "--allow-net=127.0.0.1",
    "--allow-run=workers/model_worker.sh",
    script,
    ...args,
  ]);
}

/**
 * {@linkcode graphqlAt}, asking again while the job store answers
 * UNAVAILABLE: on a machine whose cores other work keeps busy, a Redis call
 * can miss the API's 1 s limit, and one such miss must not end the run.
 */
async function graphqlPatiently(
  base: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  for (let attempt = 1;; attempt++) {
    try {
      return await graphqlAt(base, query, variables);
    } catch (error) {
      if (attempt >= 20 || !/"UNAVAILABLE"/.test((error as Error).message)) {
        throw error;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const START = `mutation($b: String!, $options: JSON) {
  startExplanation(image: { base64: $b }, methods: ["occlusion"],
    options: $options) { id }
}`;
const STATE = `query($id: ID!) {
  job(id: $id) { state error createdAt startedAt finishedAt }
}`;
const RESULT = `query($id: ID!) {
  job(id: $id) { results { map { width height values } overlay heatmap } }
}`;

interface Finished {
  id: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
}

/** Chelsea with one pixel set from `seed`: an input no pass cache has seen. */
async function chelsea(seed: number): Promise<string> {
  const bytes = await Deno.readFile(`${ROOT}tests/fixtures/chelsea.png`);
  const image = await decodeImage(bytes);
  image.data[0] = seed % 256;
  image.data[1] = (seed >> 8) % 256;
  return encodeBase64(await encodePng(image));
}

/** Runs `count` jobs at once; when each was created, started and ended. */
async function runJobs(
  base: string,
  count: number,
  options: Record<string, unknown>,
  seed: number,
): Promise<Finished[]> {
  const images = await Promise.all(
    Array.from({ length: count }, (_, i) => chelsea(seed + i)),
  );
  const ids = await Promise.all(images.map(async (b) => {
    const data = await graphqlPatiently(base, START, { b, options });
    return (data.startExplanation as { id: string }).id;
  }));
  const done = new Map<string, Finished>();
  while (done.size < ids.length) {
    await new Promise((r) => setTimeout(r, 200));
    for (const id of ids.filter((id) => !done.has(id))) {
      const job = (await graphqlPatiently(base, STATE, { id })).job as Record<
        string,
        string
      >;
      if (job.state === "running" || job.state === "queued") continue;
      if (job.state !== "succeeded") throw new Error(`Job ${id}: ${job.error}`);
      done.set(id, {
        id,
        createdAt: Date.parse(job.createdAt),
        startedAt: Date.parse(job.startedAt),
        finishedAt: Date.parse(job.finishedAt),
      });
    }
  }
  return [...done.values()];
}

async function machineLine(): Promise<string> {
  const m = await machine();
  return `${m.cpu}, ${m.cores} cores${
    m.mhz ? ` at ${(m.mhz / 1000).toFixed(2)} GHz` : ""
  }`;
}

/** The 1-minute load average (other work on the machine skews the figures). */
async function load(): Promise<number> {
  return (await loadAverage())[0] ?? NaN;
}

/**
 * Measures occlusion jobs per minute with 1 and 2 single-threaded workers.
 *
 * @example
 * ```ts
 * const result = await benchJobs({ rounds: 3 });
 * result.rates[2]; // jobs per minute of each 2-worker round
 * ```
 */
export async function benchJobs(
  options: JobBenchOptions = {},
): Promise<JobBenchResult> {
  const rounds = options.rounds ?? 3;
  const perWorker = options.jobsPerWorker ?? 4;
  const occlusion = options.occlusion ?? { size: 32, stride: 16 };
  const backend = options.backend ?? "auto";
  const say = options.log ??
    ((line: string) => console.error(`[jobs] ${line}`));
  const jobOptions = { occlusion };
  const loads = [await load()];
  const port = freePort();
  // Persistence is off: Redis writes nothing in its folder.
  const redisDir = Deno.env.get("TMPDIR") ?? "/tmp";
  const redis = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    redisDir,
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const model = ["--redis", url, "--backend", backend, "--threads", "1"];
  const api = lumen("main.ts", [
    ...model,
    "--hostname",
    "127.0.0.1",
    "--port",
    "0",
    "--max-jobs-queued",
    "1000",
  ]);
  const workers: Proc[] = [];
  try {
    const listening = await api.waitFor("listening");
    await api.waitFor("model ready");
    const base = `http://127.0.0.1:${listening.port}`;
    say(`API replica ready at ${base}`);
    let engine = "";
    const setWorkers = async (n: number) => {
      while (workers.length > n) await workers.pop()!.stop();
      while (workers.length < n) {
        const worker = lumen("worker.ts", model);
        workers.push(worker);
        const ready = await worker.waitFor("model ready");
        engine ||= JSON.stringify(ready.backend);
        await worker.waitFor("taking jobs");
      }
    };
    const rates: Record<1 | 2, number[]> = { 1: [], 2: [] };
    const jobSeconds: Record<1 | 2, number[]> = { 1: [], 2: [] };
    let seed = 1;
    for (let round = 1; round <= rounds; round++) {
      for (const n of [1, 2] as const) {
        await setWorkers(n);
        // Warm-up: each worker's first job pays its first passes.
        await runJobs(base, n, jobOptions, seed += 100);
        const jobs = await runJobs(
          base,
          perWorker * n,
          jobOptions,
          seed += 100,
        );
        const first = Math.min(...jobs.map((j) => j.createdAt));
        const last = Math.max(...jobs.map((j) => j.finishedAt));
        const rate = jobs.length / ((last - first) / 60_000);
        rates[n].push(rate);
        jobSeconds[n].push(
          ...jobs.map((j) => (j.finishedAt - j.startedAt) / 1000),
        );
        loads.push(await load());
        say(`round ${round}, ${n} worker(s): ${rate.toFixed(2)} jobs/min`);
      }
    }
    const sample = await runJobs(base, 1, jobOptions, seed += 100);
    const result = await graphqlAt(base, RESULT, { id: sample[0].id });
    const parsed = JSON.parse(engine || "{}");
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: await machineLine(),
      deno: Deno.version.deno,
      engine: `${parsed.name ?? "?"}, ${parsed.threads ?? "?"} thread(s)`,
      occlusion: {
        ...occlusion,
        passes: (Math.floor((224 - occlusion.size) / occlusion.stride) + 1) **
          2,
      },
      jobsPerWorker: perWorker,
      rates,
      jobSeconds,
      loads,
      payloadBytes: (await chelsea(0)).length,
      resultBytes: JSON.stringify(result).length,
    };
  } finally {
    for (const worker of workers) await worker.stop();
    await api.stop();
    await redis.stop();
  }
}

/**
 * Measures, then returns the markdown section.
 *
 * @example
 * ```ts
 * const section = await jobBenchSection({ rounds: 3 });
 * ```
 */
export async function jobBenchSection(
  options: JobBenchOptions = {},
): Promise<string> {
  return jobBenchMarkdown(await benchJobs(options));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      "jobs-per-worker": { type: "string", default: "4" },
      backend: { type: "string", default: "auto" },
    },
  });
  console.log(
    await jobBenchSection({
      rounds: Number(values.rounds),
      jobsPerWorker: Number(values["jobs-per-worker"]),
      backend: values.backend,
    }),
  );
}
