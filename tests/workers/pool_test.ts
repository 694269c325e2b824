/**
 * The supervised worker pool with real worker processes on the tiny
 * network (a TF.js model.json in a temp folder), and explainer plugins
 * that misbehave on purpose: one that kills its process, one that traps
 * like WebAssembly, one that never checks its signal.
 */
import assert from "node:assert/strict";
import { checkExplain } from "../../explain/mod.ts";
import {
  builtinExplainers,
  createRegistry,
} from "../../explainers/registry.ts";
import type { Explainer } from "../../explainers/types.ts";
import { ClientError } from "../../lib/errors.ts";
import { silentLogger } from "../../lib/log.ts";
import { encodePng } from "../../lib/render.ts";
import {
  createWorkerPool,
  type ExplainService,
  modelView,
} from "../../workers/mod.ts";
import type { WorkerConfig } from "../../workers/protocol.ts";
import { writeTinyModel } from "../_shared.ts";

/** Plugins that misbehave, as one module. */
const PLUGINS = `
const base = { needsGradients: false, parseParams: () => ({}) };
export default [
  { ...base, name: "crash", description: "Kills its process",
    explain: () => Deno.exit(99) },
  { ...base, name: "trap", description: "Traps like WebAssembly",
    explain: () => { throw new WebAssembly.RuntimeError("memory access out of bounds"); } },
  { ...base, name: "stubborn", description: "Never checks its signal",
    explain: () => { const end = Date.now() + 60_000; while (Date.now() < end) {} } },
  { ...base, name: "scribble", description: "Writes beside its module",
    explain: () => { Deno.writeTextFileSync(new URL("./escaped.txt", import.meta.url), "x"); } },
  { ...base, name: "print", description: "Prints to stdout, the frame pipe, and waits",
    explain: () => {
      Deno.stdout.writeSync(new TextEncoder().encode("[6642:0x56019e987000] 99 ms: Scavenge\\n"));
      return new Promise(() => {});
    } },
  { ...base, name: "flat", description: "A fixed map",
    explain: () => ({ width: 2, height: 2, values: new Float32Array([0, 1, 2, 3]) }) },
  { ...base, name: "twin", description: "The same fixed map",
    explain: () => ({ width: 2, height: 2, values: new Float32Array([0, 1, 2, 3]) }) },
];`;

/** The same plugins' names and shapes for the server side's registry. */
function pluginStubs(): Explainer[] {
  return [
    "crash",
    "trap",
    "stubborn",
    "scribble",
    "print",
    "flat",
    "twin",
  ].map((name) => ({
    name,
    description: name,
    needsGradients: false,
    parseParams: () => ({}),
    explain: () => {
      throw new Error("runs in the worker only");
    },
  }));
}

interface Setup {
  service: ExplainService;
  png: Uint8Array;
  dir: string;
}

async function withPool(
  options: {
    maxWorkerMemory?: number;
    cancelGraceMs?: number;
    engine?: WorkerConfig["engine"];
  },
  test: (setup: Setup) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-pool-" });
  const model = await writeTinyModel(dir);
  await Deno.writeTextFile(`${dir}/plugins.js`, PLUGINS);
  const registry = createRegistry([...builtinExplainers(), ...pluginStubs()]);
  const service = createWorkerPool({
    config: {
      models: [{
        name: "tiny",
        path: model,
        labels: null,
        preprocess: "tf",
        layer: null,
      }],
      engine: options.engine ?? { backend: "wasm", threads: 1 },
      maxModelBytes: null,
      maxPixels: 1_000_000,
      plugins: [`${dir}/plugins.js`],
    },
    maxWorkerMemory: options.maxWorkerMemory ?? 4 * 1024 ** 3,
    cancelGraceMs: options.cancelGraceMs ?? 5000,
    log: silentLogger,
  }, { modelNames: ["tiny"], registry });
  try {
    await service.ready();
    const png = await encodePng({
      width: 16,
      height: 16,
      data: new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256),
    });
    await test({ service, png, dir });
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function explain(
  service: ExplainService,
  png: Uint8Array,
  method: string,
  signal?: AbortSignal,
) {
  const model = await service.describe("tiny");
  const registry = createRegistry([...builtinExplainers(), ...pluginStubs()]);
  const request = checkExplain({ model: modelView(model), registry }, {
    methods: [method],
  }, {
    maxMethods: 4,
  });
  return await service.explain(
    { ...request, image: png },
    signal ? { signal } : {},
  );
}

Deno.test("a call runs in a worker process; its parts arrive as they are made, each map before its PNGs, plain data", async () => {
  await withPool({}, async ({ service, png }) => {
    const model = await service.describe();
    assert.equal(model.name, "tiny");
    assert.equal(model.backend.name, "wasm");
    const registry = createRegistry();
    const request = checkExplain({ model: modelView(model), registry }, {
      methods: ["gradcam", "activation"],
    }, { maxMethods: 4 });
    const seen: string[] = [];
    const outcome = await service.explain({ ...request, image: png }, {
      onAnalysis: () => seen.push("analysis"),
      onMap: (m) => seen.push(`map ${m.method}`),
      onRendering: (r) => seen.push(`rendering ${r.method}`),
    });
    // Maps come in request order; a method's PNGs after its map, maybe
    // after the next map (the worker renders on a second thread meanwhile).
    assert.equal(seen[0], "analysis");
    assert.deepEqual(seen.filter((e) => e.startsWith("map")), [
      "map gradcam",
      "map activation",
    ]);
    assert.deepEqual([...seen].sort(), [
      "analysis",
      "map activation",
      "map gradcam",
      "rendering activation",
      "rendering gradcam",
    ]);
    for (const method of ["gradcam", "activation"]) {
      assert.ok(
        seen.indexOf(`map ${method}`) < seen.indexOf(`rendering ${method}`),
      );
    }
    assert.deepEqual(outcome.methods.map((m) => m.method), [
      "gradcam",
      "activation",
    ]);
    const [gradcam] = outcome.methods;
    assert.ok(gradcam.map!.heatmap.values instanceof Float32Array);
    assert.ok(gradcam.rendering!.overlay instanceof Uint8Array);
    const stats = service.stats();
    assert.equal(stats.workers.alive, 1);
    assert.ok(stats.workers.residentBytes > 0);
    assert.ok(stats.work.forward >= 1);
    // Its CPU time as of its last answer, which a further call adds to.
    assert.ok(stats.workers.cpuSeconds > 0);
    await service.explain({ ...request, image: png });
    assert.ok(service.stats().workers.cpuSeconds > stats.workers.cpuSeconds);
    // Its malloc asks for huge pages (workerTunables); the rest of its
    // environment is the server's.
    const environments = workerEnvironments();
    assert.equal(environments.length, 1);
    assert.ok(
      environments[0].includes("GLIBC_TUNABLES=glibc.malloc.hugetlb=1"),
      environments[0].filter((v) => v.startsWith("GLIBC")).join(" "),
    );
  });
});

Deno.test("methods with equal maps: the worker renders and sends their PNGs once, the server hands each method the same bytes", async () => {
  await withPool({}, async ({ service, png }) => {
    const model = await service.describe("tiny");
    const registry = createRegistry([...builtinExplainers(), ...pluginStubs()]);
    const request = checkExplain({ model: modelView(model), registry }, {
      methods: ["flat", "gradcam", "twin"],
      outputs: { maps: true, overlay: true, heatmap: true },
    }, { maxMethods: 4 });
    const events: { method: string; overlay?: Uint8Array | undefined }[] = [];
    const outcome = await service.explain({ ...request, image: png }, {
      onRendering: (r) => events.push(r),
    });
    const [flat, gradcam, twin] = outcome.methods.map((m) => m.rendering!);
    assert.equal(twin.method, "twin");
    // One buffer for both: a second frame of the bytes would be a copy.
    assert.equal(twin.overlay, flat.overlay);
    assert.equal(twin.heatmap, flat.heatmap);
    assert.notDeepEqual(gradcam.overlay, flat.overlay);
    assert.deepEqual(events.map((e) => e.method).sort(), [
      "flat",
      "gradcam",
      "twin",
    ]);
    assert.equal(
      events.find((e) => e.method === "twin")!.overlay,
      flat.overlay,
    );
  });
});

/** The environments of this process's model workers, from /proc. */
function workerEnvironments(): string[][] {
  // Deno reads no process's cmdline or environ without --allow-all; these
  // tools may.
  const run = (command: string, ...args: string[]) =>
    new TextDecoder().decode(
      new Deno.Command(command, { args }).outputSync().stdout,
    );
  return run("pgrep", "-a", "-P", String(Deno.pid)).split("\n")
    .filter((line) => line.includes("model_worker.ts"))
    .map((line) =>
      run("cat", `/proc/${line.split(" ")[0]}/environ`).split("\0")
    );
}

Deno.test("ONNX Runtime workers keep the weights in the cache folder, one file a restart reuses, and write nowhere else", async () => {
  const cache = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-cache-" });
  const engine = {
    backend: "onnxruntime",
    threads: 1,
    weightsFolder: cache,
  } as const;
  try {
    const files = () => [...Deno.readDirSync(cache)].map((e) => e.name);
    let first: string[] = [];
    await withPool({ engine }, async ({ service, png, dir }) => {
      assert.equal((await service.describe()).backend.name, "onnxruntime");
      await explain(service, png, "gradcam");
      first = files();
      assert.equal(first.length, 1);
      assert.match(first[0]!, /^[0-9a-f]{32}\.weights$/);
      // Least privilege: the worker may write its cache folder, nothing else.
      const scribbled = await explain(service, png, "scribble");
      assert.match(
        String(scribbled.methods[0]?.error),
        /NotCapable: Requires write access to ".*escaped\.txt"/,
      );
      await assert.rejects(
        () => Deno.stat(`${dir}/escaped.txt`),
        Deno.errors.NotFound,
      );
    });
    await withPool({ engine }, async ({ service, png }) => {
      await explain(service, png, "gradcam");
      assert.deepEqual(files(), first); // the same weights: the same file
    });
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("a worker that dies fails only its calls (MODEL_CRASHED, retryable); a fresh one takes over", async () => {
  await withPool({}, async ({ service, png }) => {
    for (const method of ["crash", "trap"]) {
      const cpu = service.stats().workers.cpuSeconds;
      await assert.rejects(explain(service, png, method), (error: unknown) => {
        assert.ok(error instanceof ClientError, String(error));
        assert.equal(error.code, "MODEL_CRASHED");
        return true;
      });
      const next = await explain(service, png, "gradcam");
      assert.equal(next.methods[0].method, "gradcam");
      // The dead worker's CPU time stays counted: a counter never drops.
      assert.ok(service.stats().workers.cpuSeconds > cpu);
    }
    assert.equal(service.stats().workers.restarts.crash, 2);
  });
});

Deno.test("a worker whose stdout carries something else than frames is replaced at once: its call fails MODEL_CRASHED, the next works", async () => {
  await withPool({}, async ({ service, png }) => {
    const start = performance.now();
    await assert.rejects(
      explain(service, png, "print", AbortSignal.timeout(20_000)),
      (error: unknown) => {
        assert.ok(error instanceof ClientError, String(error));
        assert.equal(error.code, "MODEL_CRASHED");
        return true;
      },
    );
    // Not after the request's time limit and the cancel's grace period.
    const ms = performance.now() - start;
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
    assert.equal(service.stats().workers.restarts.crash, 1);
    const next = await explain(service, png, "gradcam");
    assert.equal(next.methods[0].method, "gradcam");
  });
});

Deno.test("cancelled work that never checks its signal is stopped for real: the worker is killed and replaced", async () => {
  await withPool({ cancelGraceMs: 300 }, async ({ service, png }) => {
    const start = performance.now();
    await assert.rejects(
      explain(service, png, "stubborn", AbortSignal.timeout(200)),
      (error: unknown) => (error as Error).name === "TimeoutError",
    );
    // The caller heard at once; the stubborn worker is killed after the grace.
    assert.ok(performance.now() - start < 2000);
    const next = await explain(service, png, "gradcam");
    assert.equal(next.methods[0].method, "gradcam");
    assert.equal(service.stats().workers.restarts.timeout, 1);
    assert.equal(service.stats().queue.running.light, 0);
  });
});

Deno.test("a worker that grew past its memory budget is replaced once idle; calls go on", async () => {
  // A budget just over what the loaded worker holds; integrated gradients
  // with a batch of 256 grows its WASM heap past it.
  let baseline = 0;
  await withPool({}, ({ service }) => {
    baseline = service.stats().workers.residentBytes;
    return Promise.resolve();
  });
  await withPool(
    { maxWorkerMemory: Math.round(baseline * 1.15) },
    async ({ service, png }) => {
      const model = await service.describe("tiny");
      const request = checkExplain({
        model: modelView(model),
        registry: createRegistry(),
      }, {
        methods: ["integratedgradients"],
        options: { integratedgradients: { steps: 256, batchSize: 256 } },
      }, { maxMethods: 1 });
      await service.explain({ ...request, image: png });
      // Replaced once idle: a fresh worker, back under the budget.
      const end = performance.now() + 20_000;
      while ((service.stats().workers.restarts.memory ?? 0) < 1) {
        assert.ok(performance.now() < end, "no replacement");
        await new Promise((r) => setTimeout(r, 50));
      }
      const next = await explain(service, png, "gradcam");
      assert.equal(next.methods[0].method, "gradcam");
      assert.ok(service.stats().workers.residentBytes < baseline * 1.15);
    },
  );
});

Deno.test("a budget below the model itself is not a restart loop", async () => {
  await withPool({ maxWorkerMemory: 1 }, async ({ service, png }) => {
    for (let i = 0; i < 3; i++) {
      const outcome = await explain(service, png, "gradcam");
      assert.equal(outcome.methods[0].method, "gradcam");
    }
    assert.equal(service.stats().workers.restarts.memory, undefined);
  });
});
