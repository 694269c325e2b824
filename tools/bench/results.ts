/**
 * What a bench run measured: every figure by a stable id (its label and
 * unit in {@linkcode FIGURES}), why sections were left out, and extra
 * markdown sections. Sections add to it; the targets and the report read
 * it.
 *
 * @module
 */
import { type Stats, summarize } from "./stats.ts";

/** A figure's unit. */
export type Unit = "ms" | "MB" | "req/s";

/** How a figure is shown. */
export interface FigureInfo {
  label: string;
  unit: Unit;
}

/** Every figure the bench can measure, in report order. */
export const FIGURES: Readonly<Record<string, FigureInfo>> = {
  "forward.lumen-ort": {
    label: "Lumen forward on onnxruntime (`runtime.run`, logits)",
    unit: "ms",
  },
  "forward.bare-ort": {
    label: "bare ONNX Runtime session, same ONNX bytes, same threads",
    unit: "ms",
  },
  "forward.bare-ort-lumen": {
    label:
      "bare session with Lumen's session options (spinning stopped after a run, memory arena)",
    unit: "ms",
  },
  "forward.lumen-wasm": {
    label: "Lumen forward on TF.js WASM",
    unit: "ms",
  },
  "render.overlay": {
    label: "overlay of chelsea 451×300 (upsample, colour, blend, PNG)",
    unit: "ms",
  },
  "http.cold-start": {
    label: "`main.ts` start to `/ready` 200 (onnxruntime)",
    unit: "ms",
  },
  "http.gradcam": {
    label: "Grad-CAM over HTTP: base64 PNG in, overlay PNG out",
    unit: "ms",
  },
  "http.gradcam.decode": { label: "… server timings: decode", unit: "ms" },
  "http.gradcam.forward": {
    label: "… server timings: resize + forward + backward",
    unit: "ms",
  },
  "http.gradcam.explain": { label: "… server timings: map", unit: "ms" },
  "http.gradcam.render": {
    label: "… server timings: render (overlay PNG)",
    unit: "ms",
  },
  "http.gradcam.rest": {
    label: "… the rest (HTTP, GraphQL, base64, worker relay)",
    unit: "ms",
  },
  "http.predict": {
    label: "predict over HTTP: base64 PNG in, top 5 out (no map, no PNG)",
    unit: "ms",
  },
  "http.many": {
    label: "explainMany of the 6 gradient CAMs over HTTP, with overlays",
    unit: "ms",
  },
  "http.layer3.gradcam": {
    label: "Grad-CAM at layer3 over HTTP, with its overlay",
    unit: "ms",
  },
  "http.layer3.many": {
    label:
      "explainMany of the 6 gradient CAMs at layer3 over HTTP (no two maps equal: six overlays encoded)",
    unit: "ms",
  },
  "http.cpu.gradcam": {
    label:
      "… CPU per Grad-CAM request, every process (server, model worker, this client)",
    unit: "ms",
  },
  "http.cpu.many": {
    label: "… CPU per explainMany request, every process",
    unit: "ms",
  },
  "http.first.gradcam": {
    label:
      "Grad-CAM over HTTP, a new server's first 10 (in turns with predict and explainMany)",
    unit: "ms",
  },
  "http.first.many": {
    label: "explainMany over HTTP, a new server's first 10",
    unit: "ms",
  },
  "http.throughput.1": {
    label: "Grad-CAM requests/s, 1 client",
    unit: "req/s",
  },
  "http.throughput.2": {
    label: "Grad-CAM requests/s, 2 clients",
    unit: "req/s",
  },
  "http.throughput.4": {
    label: "Grad-CAM requests/s, 4 clients",
    unit: "req/s",
  },
  "torch.forward": { label: "PyTorch forward", unit: "ms" },
  "torch.gradcam": { label: "PyTorch Grad-CAM (hooks, 7×7 map)", unit: "ms" },
  "torch.e2e": {
    label: "PyTorch end-to-end (file → overlay PNG)",
    unit: "ms",
  },
  "cache.cold": {
    label: "Grad-CAM in-process on onnxruntime, new image",
    unit: "ms",
  },
  "cache.method": {
    label: "same image, another method (pass cache hit)",
    unit: "ms",
  },
  "cache.class": {
    label: "same image, another class (cache hit + upper half)",
    unit: "ms",
  },
  "slow.occlusion.ort": {
    label: "occlusion (defaults), onnxruntime",
    unit: "ms",
  },
  "slow.occlusion.wasm": {
    label: "occlusion (defaults), TF.js WASM",
    unit: "ms",
  },
  "slow.ig.ort": {
    label: "integratedgradients (32 steps), onnxruntime",
    unit: "ms",
  },
  "slow.ig.wasm": {
    label: "integratedgradients (32 steps), TF.js WASM",
    unit: "ms",
  },
  "slow.scorecam.ort": {
    label: "scorecam (64 channels), onnxruntime",
    unit: "ms",
  },
  "slow.scorecam.wasm": {
    label: "scorecam (64 channels), TF.js WASM",
    unit: "ms",
  },
  "slow.scorecam-full.ort": {
    label: "scorecam, all 2048 channels, onnxruntime",
    unit: "ms",
  },
  "memory.wasm": {
    label: "peak RSS, TF.js WASM weights loaded and warmed up",
    unit: "MB",
  },
  "memory.ort": {
    label: "peak RSS, onnxruntime weights loaded and warmed up",
    unit: "MB",
  },
  "memory.both": {
    label: "peak RSS, both engines' weights loaded and warmed up (WASM first)",
    unit: "MB",
  },
  "memory.both-ort-first": {
    label: "peak RSS, both engines, onnxruntime loaded first",
    unit: "MB",
  },
};

/** Extremes and count that replace those of the samples (a peer's own summary). */
export interface Extremes {
  min: number;
  max: number;
  n: number;
}

/** What a run measured so far. */
export interface Results {
  /** Samples by figure id. */
  samples: Map<string, number[]>;
  /** For figures whose samples are a peer's per-call medians. */
  extremes: Map<string, Extremes>;
  /** Why a section or a figure is missing, by section name or figure id. */
  missing: Map<string, string>;
  /** Markdown sections appended to the report (e.g. the jobs section). */
  sections: string[];
}

/**
 * An empty result set.
 *
 * @example
 * ```ts
 * const results = newResults();
 * addSamples(results, "render.overlay", [3.1, 2.9]);
 * ```
 */
export function newResults(): Results {
  return {
    samples: new Map(),
    extremes: new Map(),
    missing: new Map(),
    sections: [],
  };
}

/**
 * Adds samples to a figure (rounds pool their samples). Throws for an id
 * not in {@linkcode FIGURES}.
 *
 * @example
 * ```ts
 * addSamples(results, "forward.bare-ort", [19.2, 18.7]);
 * ```
 */
export function addSamples(
  results: Results,
  id: string,
  samples: readonly number[],
): void {
  if (!(id in FIGURES)) throw new Error(`Unknown figure "${id}"`);
  results.samples.set(id, [...(results.samples.get(id) ?? []), ...samples]);
}

/**
 * Adds a peer's own summary of one call: its median as a sample, its
 * extremes and count merged.
 *
 * @example
 * ```ts
 * addSummary(results, "torch.e2e", { median: 140, min: 124, max: 159, n: 10 });
 * ```
 */
export function addSummary(results: Results, id: string, s: Stats): void {
  addSamples(results, id, [s.median]);
  const old = results.extremes.get(id);
  results.extremes.set(id, {
    min: Math.min(s.min, old?.min ?? Infinity),
    max: Math.max(s.max, old?.max ?? -Infinity),
    n: s.n + (old?.n ?? 0),
  });
}

/**
 * A figure's median, min, max and n; null when it was not measured.
 *
 * @example
 * ```ts
 * figure(results, "render.overlay")?.median;
 * ```
 */
export function figure(results: Results, id: string): Stats | null {
  const s = summarize(results.samples.get(id) ?? []);
  const e = results.extremes.get(id);
  return s && e ? { median: s.median, ...e } : s;
}
