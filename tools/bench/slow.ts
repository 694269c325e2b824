/**
 * The methods that need many passes, on onnxruntime against TF.js WASM
 * (same threads, runs in turns, each on a new image): occlusion with its
 * defaults, integrated gradients with 32 steps, Score-CAM with 64 channels;
 * and Score-CAM with all 2048 channels on onnxruntime alone.
 *
 * @module
 */
import { analyzeImage, type Registry } from "../../explainers/mod.ts";
import type { ModelRuntime } from "../../models/mod.ts";
import { freshInputs } from "./images.ts";
import { alternate, timed } from "./stats.ts";

/** A slow method as the bench runs it. */
export interface SlowCase {
  /** Figure ids are `slow.<key>.ort` and `slow.<key>.wasm`. */
  key: string;
  method: string;
  params: Record<string, unknown>;
  /** Cheap options of the same method for the untimed first run. */
  warmUp: Record<string, unknown>;
}

/** The three methods issue 13 times on both engines. */
export const SLOW_CASES: readonly SlowCase[] = [
  {
    key: "occlusion",
    method: "occlusion",
    params: {},
    warmUp: { size: 112, stride: 112 },
  },
  {
    key: "ig",
    method: "integratedgradients",
    params: { steps: 32 },
    warmUp: { steps: 2 },
  },
  {
    key: "scorecam",
    method: "scorecam",
    params: { topChannels: 64 },
    warmUp: { topChannels: 4 },
  },
];

/**
 * One method's map on a new image: the shared pass and the method.
 *
 * @example
 * ```ts
 * await explainOnce(runtime, registry, fresh(), SLOW_CASES[0]);
 * ```
 */
export async function explainOnce(
  runtime: ModelRuntime,
  registry: Registry,
  input: Float32Array,
  c: Pick<SlowCase, "method" | "params">,
): Promise<void> {
  const analysis = await analyzeImage({ runtime, registry }, input, {
    methods: [c.method],
    params: { [c.method]: c.params },
  });
  await analysis.explain(c.method);
}

/**
 * Times each slow case on both engines in turns; samples by figure id.
 * An untimed cheap run of each first makes its sessions and times its
 * passes (batches are sized from that), as on a server that has run once.
 *
 * @example
 * ```ts
 * const samples = await slowMethods({ ort, wasm }, registry, { input, runs: 3, log });
 * ```
 */
export async function slowMethods(
  runtimes: { ort: ModelRuntime; wasm: ModelRuntime },
  registry: Registry,
  options: { input: Float32Array; runs: number; log: (line: string) => void },
): Promise<Record<string, number[]>> {
  const fresh = freshInputs(options.input);
  const out: Record<string, number[]> = {};
  for (const c of SLOW_CASES) {
    options.log(`${c.method} ${JSON.stringify(c.params)}: ort, wasm in turns`);
    for (const runtime of [runtimes.ort, runtimes.wasm]) {
      await explainOnce(runtime, registry, fresh(), {
        method: c.method,
        params: c.warmUp,
      });
    }
    const samples = await alternate({
      ort: () => explainOnce(runtimes.ort, registry, fresh(), c),
      wasm: () => explainOnce(runtimes.wasm, registry, fresh(), c),
    }, { runs: options.runs, warmUp: 0 });
    out[`slow.${c.key}.ort`] = samples.ort;
    out[`slow.${c.key}.wasm`] = samples.wasm;
  }
  return out;
}

/**
 * Score-CAM with every channel of the default layer on one runtime, once.
 *
 * @example
 * ```ts
 * const ms = await fullScoreCam(ort, registry, input);
 * ```
 */
export async function fullScoreCam(
  runtime: ModelRuntime,
  registry: Registry,
  input: Float32Array,
): Promise<number> {
  const fresh = freshInputs(input);
  return await timed(() =>
    explainOnce(runtime, registry, fresh(), {
      method: "scorecam",
      params: { topChannels: 0 },
    })
  );
}
