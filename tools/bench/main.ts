/**
 * `deno task bench`: measures issue 13's targets side by side in one run
 * on this machine and writes the report (BENCHMARKS.md by default): Lumen
 * on onnxruntime against a bare ONNX Runtime session on the same bytes,
 * Grad-CAM and explainMany over HTTP on a real `main.ts`, the PyTorch
 * yardstick (`../shared/peer/`), rendering, the slow methods on onnxruntime
 * against TF.js WASM, and memory in child processes. `--quick` is a smoke
 * test; `--help` lists the flags.
 *
 * @module
 */
import { version_core as tfjsVersion } from "@tensorflow/tfjs-core";
import { analyzeImage, createRegistry } from "../../explainers/mod.ts";
import { loadOrt } from "../../models/onnx/mod.ts";
import { cacheRound } from "./cache.ts";
import { closeEngines, type Engines, openEngines } from "./engines.ts";
import { forwardAgreement, forwardRound } from "./forward.ts";
import { cpuRound, firstRequests, httpRound, throughputRound } from "./http.ts";
import { chelsea, pngVariants } from "./images.ts";
import { jobBenchSection } from "./jobs.ts";
import { childPeakRss, MEMORY_CASES } from "./memory.ts";
import {
  type BenchOptions,
  parseBenchFlags,
  type Section,
  USAGE,
} from "./options.ts";
import { renderRound } from "./render.ts";
import { benchReport, targetTable } from "./report.ts";
import {
  addSamples,
  addSummary,
  figure,
  FIGURES,
  newResults,
  type Results,
} from "./results.ts";
import { type LumenServer, startServer } from "./server.ts";
import { fullScoreCam, slowMethods } from "./slow.ts";
import { loadAverage, machine } from "./system.ts";
import { judge } from "./targets.ts";
import { torchRound, torchUnavailable } from "./torch_peer.ts";

const log = (line: string) => console.error(`[bench] ${line}`);

/**
 * Idle time before each timed forward: ONNX Runtime's default thread pool
 * spins after a run and would take the cores from the next contender.
 */
const FORWARD_GAP_MS = 50;
/**
 * A new server's first requests of each kind, timed apart from the rounds
 * (which then find it warm).
 */
const FIRST_REQUESTS = 10;

/** The figure ids of each section (to say why they are missing). */
const SECTION_FIGURES: Record<Section, string[]> = {
  forward: ["forward.lumen-ort", "forward.bare-ort", "forward.bare-ort-lumen"],
  render: ["render.overlay"],
  http: Object.keys(FIGURES).filter((id) => id.startsWith("http.")),
  torch: ["torch.forward", "torch.gradcam", "torch.e2e"],
  slow: Object.keys(FIGURES).filter((id) =>
    /^slow\.(occlusion|ig|scorecam)\./.test(id)
  ).concat("forward.lumen-wasm"),
  "full-scorecam": ["slow.scorecam-full.ort"],
  memory: Object.keys(MEMORY_CASES),
  cache: ["cache.cold", "cache.method", "cache.class"],
};

function markMissing(results: Results, section: Section, why: string): void {
  for (const id of SECTION_FIGURES[section]) {
    if (!results.samples.has(id)) results.missing.set(id, why);
  }
}

function addAll(results: Results, samples: Record<string, number[]>): void {
  for (const [id, s] of Object.entries(samples)) addSamples(results, id, s);
}

/** Runs `work` unless its section is skipped; a failure is recorded, not fatal. */
async function section(
  options: BenchOptions,
  name: Section,
  work: () => Promise<void>,
): Promise<void> {
  if (options.skip.has(name)) return;
  try {
    await work();
  } catch (error) {
    const message = (error as Error).message.split("\n")[0].slice(0, 200);
    log(`${name} failed: ${message}`);
    options.skip.set(name, `failed: ${message}`);
  }
}

async function memorySection(options: BenchOptions, results: Results) {
  for (const [id, engines] of Object.entries(MEMORY_CASES)) {
    log(`memory: child process with ${engines}`);
    addSamples(results, id, [
      await childPeakRss(engines, { threads: options.threads }),
    ]);
  }
}

/** Fast figures, one round: every contender in turns. */
async function round(
  options: BenchOptions,
  results: Results,
  context: {
    engines: Engines;
    input: Float32Array;
    server: LumenServer | null;
    images: (count: number) => Promise<() => string>;
    map: { values: Float32Array; width: number; height: number };
    registry: ReturnType<typeof createRegistry>;
  },
) {
  const { runs, threads } = options;
  const { engines, input, server } = context;
  await section(options, "forward", async () => {
    // Each forward starts from idle threads, as a server's requests do.
    addAll(
      results,
      await forwardRound(engines, { input, runs, gapMs: FORWARD_GAP_MS }),
    );
  });
  if (server) {
    await section(options, "http", async () => {
      const requests = Math.max(4, runs);
      // httpRound's two alternations (3 and 2 kinds, 2 warm-ups each),
      // cpuRound's 2 kinds, throughputRound's 3 client counts.
      const images = await context.images(
        3 * (runs + 2) + 2 * (runs + 2) + 2 * runs + 3 * (requests + 4),
      );
      addAll(results, await httpRound(server, images, { runs }));
      addAll(results, await cpuRound(server, images, { runs }));
      addAll(results, await throughputRound(server, images, { requests }));
    });
  }
  await section(options, "torch", async () => {
    const peer = await torchRound({ runs, threads });
    for (const [id, s] of Object.entries(peer)) addSummary(results, id, s);
  });
  await section(options, "render", async () => {
    const image = await chelsea();
    addSamples(
      results,
      "render.overlay",
      await renderRound(image, context.map, { runs: runs * 5 }),
    );
  });
  await section(options, "cache", async () => {
    addAll(
      results,
      await cacheRound(engines.ort, context.registry, { input, runs }),
    );
  });
}

/**
 * What explainMany's overlays cost beyond one Grad-CAM in CPU, against the
 * wall time its target allows: on shared cores no scheduling beats it.
 */
function manyCpuNote(results: Results): string | null {
  const gradcam = figure(results, "http.cpu.gradcam");
  const many = figure(results, "http.cpu.many");
  const wall = figure(results, "http.gradcam");
  if (!gradcam || !many || !wall) return null;
  const cores = navigator.hardwareConcurrency;
  const extra = many.median - gradcam.median;
  return `CPU per request over every process (medians): Grad-CAM ${
    gradcam.median.toFixed(0)
  } ms, explainMany ${many.median.toFixed(0)} ms. The five methods more cost ${
    extra.toFixed(0)
  } ms of CPU, at least ${
    (extra / cores).toFixed(0)
  } ms of wall time on ${cores} cores even with none idle, where explainMany ≤ 1.3× Grad-CAM allows ${
    (0.3 * wall.median).toFixed(0)
  } ms.`;
}

/**
 * explainMany against Grad-CAM where no two of the six maps are equal: at
 * layer4 HiResCAM's and XGrad-CAM's overlays are Grad-CAM's, encoded once.
 */
function manyLayer3Note(results: Results): string | null {
  const gradcam = figure(results, "http.layer3.gradcam");
  const many = figure(results, "http.layer3.many");
  if (!gradcam || !many) return null;
  return `At layer4, the target's layer, HiResCAM's map is Grad-CAM's bit for bit and XGrad-CAM's equal or a few ulps off, with every pixel on the same colour: their overlay is encoded and sent once (four overlays made for six methods). At layer3, where all six maps differ, explainMany took ${
    many.median.toFixed(1)
  } ms against ${gradcam.median.toFixed(1)} for one Grad-CAM there: ${
    (many.median / gradcam.median).toFixed(2)
  }×.`;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchFlags(Deno.args);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const loadStart = await loadAverage();
  const results = newResults();
  const notes: string[] = [];
  log(`load average ${loadStart.join(" ")}; threads ${options.threads}`);
  await section(options, "memory", () => memorySection(options, results));
  const needWasm = !options.skip.has("slow");
  const engines = await openEngines({
    threads: options.threads,
    wasm: needWasm,
    log,
  });
  const registry = createRegistry();
  let server: LumenServer | null = null;
  try {
    const image = await chelsea();
    const input = engines.ort.prepare(image);
    const agreement = await forwardAgreement(engines, input);
    notes.push(
      `Bare session against Lumen, same input: largest logit difference ${
        agreement.relative.toExponential(1)
      } of the largest logit, ${
        agreement.sameTop ? "same" : "**different**"
      } top-1 class.`,
    );
    const analysis = await analyzeImage(
      { runtime: engines.ort, registry },
      input,
      {
        methods: ["gradcam"],
      },
    );
    const { heatmap } = await analysis.explain("gradcam");
    const torchWhy = options.skip.has("torch")
      ? null
      : await torchUnavailable();
    if (torchWhy) options.skip.set("torch", torchWhy);
    let seed = 1;
    const images = async (count: number) => {
      const { base64 } = await pngVariants(image, count, { first: seed });
      seed += count;
      let next = 0;
      return () => {
        if (next >= base64.length) throw new Error("Out of fresh images");
        return base64[next++];
      };
    };
    await section(options, "http", async () => {
      log("starting main.ts --backend onnxruntime");
      server = await startServer({ threads: options.threads });
      addSamples(results, "http.cold-start", [server.coldStartMs]);
      notes.push(`\`/ready\` said: ${JSON.stringify(server.ready)}.`);
      const fresh = await images(3 * FIRST_REQUESTS);
      addAll(
        results,
        await firstRequests(server, fresh, { runs: FIRST_REQUESTS }),
      );
    });
    for (let r = 1; r <= options.rounds; r++) {
      log(`round ${r}/${options.rounds}`);
      await round(options, results, {
        engines,
        input,
        server,
        images,
        map: heatmap,
        registry,
      });
    }
    if (server) await (server as LumenServer).stop();
    server = null;
    const cpuNote = manyCpuNote(results);
    if (cpuNote) notes.push(cpuNote);
    const layer3Note = manyLayer3Note(results);
    if (layer3Note) notes.push(layer3Note);
    if (engines.wasm) {
      const wasm = engines.wasm;
      await section(options, "slow", async () => {
        addAll(
          results,
          await slowMethods({ ort: engines.ort, wasm }, registry, {
            input,
            runs: options.slowRuns,
            log,
          }),
        );
      });
    }
    await section(options, "full-scorecam", async () => {
      log("scorecam with all channels on onnxruntime");
      addSamples(results, "slow.scorecam-full.ort", [
        await fullScoreCam(engines.ort, registry, input),
      ]);
    });
  } finally {
    if (server) await (server as LumenServer).stop();
    await closeEngines(engines);
  }
  if (options.jobs) {
    try {
      results.sections.push(
        await jobBenchSection({ rounds: options.quick ? 1 : 3, log }),
      );
    } catch (error) {
      results.sections.push(
        `## Scale-out: occlusion jobs per minute\n\nFailed: ${
          (error as Error).message.slice(0, 300)
        }\n`,
      );
    }
  }
  for (const [name, why] of options.skip) markMissing(results, name, why);
  const ort = await loadOrt();
  const report = benchReport(results, {
    date: new Date().toISOString().slice(0, 10),
    machine: await machine(),
    loadStart,
    loadEnd: await loadAverage(),
    threads: options.threads,
    runs: options.runs,
    rounds: options.rounds,
    slowRuns: options.slowRuns,
    quick: options.quick,
    versions: {
      "onnxruntime-node": ort.env.versions?.common ?? "?",
      "TF.js": tfjsVersion,
    },
    notes,
  });
  await Deno.writeTextFile(options.out, report);
  console.log(targetTable(judge(results)).join("\n"));
  log(`wrote ${options.out}`);
  return 0;
}

Deno.exit(await main());
