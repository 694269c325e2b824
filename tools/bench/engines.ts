/**
 * What the in-process figures run on: Lumen's runtime on ONNX Runtime and
 * on TF.js WASM, and bare ONNX Runtime sessions on the very bytes Lumen's
 * export hands ONNX Runtime (no Lumen code between the caller and
 * `session.run`).
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import {
  DEFAULT_WEIGHTS_CACHE,
  loadModel,
  type ModelRuntime,
  RESNET50_MODEL,
  shutdownBackend,
} from "../../models/mod.ts";
import {
  exportedModelBytes,
  exportTfjsModel,
  loadOrt,
  sessionOptions,
} from "../../models/onnx/mod.ts";

/** A bare ONNX Runtime session: one forward, logits out. */
export interface BareSession {
  /** Runs one NHWC preprocessed input (as `runtime.prepare` makes). */
  forward(input: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Options of {@linkcode bareSession}. */
export interface BareOptions {
  threads: number;
  /**
   * Lumen's own session options (spinning stopped after a run, memory arena) instead of ONNX
   * Runtime's defaults with the thread count. @default false
   */
  lumenOptions?: boolean;
}

/**
 * The ONNX bytes Lumen runs for the shipped ResNet-50: its TF.js weights
 * exported (BN folded) as one graph, channels-last input, logits out.
 *
 * @example
 * ```ts
 * const bytes = await resnet50OnnxBytes(); // about 100 MB
 * ```
 */
export async function resnet50OnnxBytes(): Promise<Uint8Array> {
  return exportedModelBytes(await exportTfjsModel(RESNET50_MODEL));
}

/**
 * A bare session on `bytes`, as a user of ONNX Runtime would make it: the
 * CPU provider, all graph optimisations, `threads` intra-op threads.
 *
 * @example
 * ```ts
 * const bare = await bareSession(bytes, { threads: 2 });
 * const logits = await bare.forward(runtime.prepare(image));
 * ```
 */
export async function bareSession(
  bytes: Uint8Array,
  options: BareOptions,
): Promise<BareSession> {
  const ort = await loadOrt();
  const settings: Ort.InferenceSession.SessionOptions = options.lumenOptions
    ? sessionOptions({ threads: options.threads })
    : {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
    };
  const session = await ort.InferenceSession.create(bytes, settings);
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  const size = 224 * 224 * 3;
  return {
    async forward(x) {
      if (x.length !== size) throw new Error(`Input has ${x.length} values`);
      const feed = new ort.Tensor("float32", x, [1, 224, 224, 3]);
      const out = await session.run({ [input]: feed }, [output]);
      const logits = (out[output].data as Float32Array).slice();
      out[output].dispose();
      return logits;
    },
    release: () => session.release(),
  };
}

/**
 * Lumen's runtime of the shipped ResNet-50 on one engine, warmed up.
 *
 * @example
 * ```ts
 * const runtime = await lumenRuntime("onnxruntime", { threads: 2 });
 * ```
 */
export async function lumenRuntime(
  backend: "onnxruntime" | "wasm",
  options: { threads: number },
): Promise<ModelRuntime> {
  // As a server's workers load it: ONNX Runtime's weights in the cache.
  const runtime = await loadModel({
    backend,
    threads: options.threads,
    weightsFolder: DEFAULT_WEIGHTS_CACHE,
    log: (message) => console.error(`[bench] ${message}`),
  });
  if (runtime.backend.name !== backend) {
    runtime.dispose();
    throw new Error(
      `Asked for ${backend}, got ${runtime.backend.name}: ${
        runtime.backend.skipped.join("; ")
      }`,
    );
  }
  return runtime;
}

/**
 * Releases the runtimes and TF.js' backend (WASM threads keep the process
 * alive otherwise).
 *
 * @example
 * ```ts
 * disposeAll([ort, wasm]);
 * ```
 */
export function disposeAll(runtimes: readonly (ModelRuntime | null)[]): void {
  for (const r of runtimes) r?.dispose();
  shutdownBackend();
}

/** Everything the in-process figures run on. */
export interface Engines {
  ort: ModelRuntime;
  /** null when no section needs it. */
  wasm: ModelRuntime | null;
  /** ONNX Runtime's defaults with the thread count. */
  bare: BareSession;
  /** Lumen's session options. */
  bareLumen: BareSession;
}

/**
 * Loads Lumen on both engines and the bare sessions, logging as it goes.
 *
 * @example
 * ```ts
 * const engines = await openEngines({ threads: 2, wasm: true, log: console.error });
 * ```
 */
export async function openEngines(
  options: { threads: number; wasm: boolean; log: (line: string) => void },
): Promise<Engines> {
  const { threads, log } = options;
  log(`loading ResNet-50 on onnxruntime, ${threads} threads`);
  const ort = await lumenRuntime("onnxruntime", { threads });
  log("exporting the ONNX bytes for the bare sessions");
  const bytes = await resnet50OnnxBytes();
  const bare = await bareSession(bytes, { threads });
  const bareLumen = await bareSession(bytes, { threads, lumenOptions: true });
  let wasm: ModelRuntime | null = null;
  if (options.wasm) {
    log(`loading ResNet-50 on TF.js WASM, ${threads} threads`);
    wasm = await lumenRuntime("wasm", { threads });
  }
  return { ort, wasm, bare, bareLumen };
}

/**
 * Releases everything {@linkcode openEngines} made.
 *
 * @example
 * ```ts
 * await closeEngines(engines);
 * ```
 */
export async function closeEngines(engines: Engines): Promise<void> {
  await engines.bare.release();
  await engines.bareLumen.release();
  disposeAll([engines.ort, engines.wasm]);
}
