/**
 * The numbers Lumen must reach (issue 13, and the earlier ones still worth
 * watching), each as a figure compared with a limit or with a yardstick
 * measured in the same run. Pure.
 *
 * @module
 */
import { figure, type Results } from "./results.ts";

/** How a target compares its figure. */
export type Check =
  /** figure ÷ yardstick ≤ limit */
  | { kind: "ratio-max"; limit: number }
  /** figure ÷ yardstick ≥ limit */
  | { kind: "ratio-min"; limit: number }
  /** figure ≤ limit (in the figure's unit) */
  | { kind: "max"; limit: number }
  /** figure − yardstick ≤ limit (in the figure's unit) */
  | { kind: "delta-max"; limit: number };

/** One number to reach. */
export interface Target {
  /** What it says, e.g. "forward ≤ 1.15× bare ONNX Runtime". */
  text: string;
  /** From issue 13 (true) or kept from earlier benches. */
  issue13: boolean;
  /** The figure judged. */
  figure: string;
  /** The figure it is compared with, if any. */
  yardstick?: string;
  check: Check;
}

/** The targets, in report order. */
export const TARGETS: readonly Target[] = [
  {
    text: "Lumen forward on onnxruntime ≤ 1.15× bare ORT session",
    issue13: true,
    figure: "forward.lumen-ort",
    yardstick: "forward.bare-ort",
    check: { kind: "ratio-max", limit: 1.15 },
  },
  {
    text: "Grad-CAM over HTTP ≤ 2× bare ORT forward",
    issue13: true,
    figure: "http.gradcam",
    yardstick: "forward.bare-ort",
    check: { kind: "ratio-max", limit: 2 },
  },
  {
    text: "Grad-CAM over HTTP ≤ 0.5× PyTorch end-to-end",
    issue13: true,
    figure: "http.gradcam",
    yardstick: "torch.e2e",
    check: { kind: "ratio-max", limit: 0.5 },
  },
  {
    text: "overlay of a 451×300 photo ≤ 5 ms",
    issue13: true,
    figure: "render.overlay",
    check: { kind: "max", limit: 5 },
  },
  {
    text: "explainMany of 6 gradient CAMs ≤ 1.3× one Grad-CAM (HTTP)",
    issue13: true,
    figure: "http.many",
    yardstick: "http.gradcam",
    check: { kind: "ratio-max", limit: 1.3 },
  },
  {
    text: "occlusion on onnxruntime ≤ 0.35× TF.js WASM",
    issue13: true,
    figure: "slow.occlusion.ort",
    yardstick: "slow.occlusion.wasm",
    check: { kind: "ratio-max", limit: 0.35 },
  },
  {
    text: "integratedgradients (32) on onnxruntime ≤ 0.35× TF.js WASM",
    issue13: true,
    figure: "slow.ig.ort",
    yardstick: "slow.ig.wasm",
    check: { kind: "ratio-max", limit: 0.35 },
  },
  {
    text: "scorecam (64) on onnxruntime ≤ 0.35× TF.js WASM",
    issue13: true,
    figure: "slow.scorecam.ort",
    yardstick: "slow.scorecam.wasm",
    check: { kind: "ratio-max", limit: 0.35 },
  },
  {
    text: "full Score-CAM (2048 channels) on onnxruntime < 60 s",
    issue13: true,
    figure: "slow.scorecam-full.ort",
    check: { kind: "max", limit: 60_000 },
  },
  {
    text: "peak RSS, both engines ≤ TF.js only + 150 MB",
    issue13: true,
    figure: "memory.both",
    yardstick: "memory.wasm",
    check: { kind: "delta-max", limit: 150 },
  },
  {
    text: "cold start to /ready ≤ 5 s",
    issue13: false,
    figure: "http.cold-start",
    check: { kind: "max", limit: 5000 },
  },
  {
    text: "same image, other method ≤ 15 % of a new image",
    issue13: false,
    figure: "cache.method",
    yardstick: "cache.cold",
    check: { kind: "ratio-max", limit: 0.15 },
  },
  {
    text: "same image, other class ≤ 15 % of a new image",
    issue13: false,
    figure: "cache.class",
    yardstick: "cache.cold",
    check: { kind: "ratio-max", limit: 0.15 },
  },
  {
    text: "4-client throughput ≥ 0.95× 1-client (HTTP)",
    issue13: false,
    figure: "http.throughput.4",
    yardstick: "http.throughput.1",
    check: { kind: "ratio-min", limit: 0.95 },
  },
];

/** A target judged on a run's results. */
export interface TargetRow {
  target: Target;
  /** The figure's median; null when not measured. */
  value: number | null;
  /** The yardstick's median, if the target has one. */
  yardstick: number | null;
  /** What is compared with the limit: a ratio, a difference or the value. */
  measure: number | null;
  status: "met" | "not met" | "not measured";
  /** Why it was not measured. */
  why?: string;
}

/**
 * Judges each target on the results. A target whose figure or yardstick is
 * missing is "not measured", with the reason recorded for it.
 *
 * @example
 * ```ts
 * const rows = judge(results);
 * rows.filter((r) => r.status === "not met").map((r) => r.target.text);
 * ```
 */
export function judge(
  results: Results,
  targets: readonly Target[] = TARGETS,
): TargetRow[] {
  return targets.map((target) => {
    const value = figure(results, target.figure)?.median ?? null;
    const yardstick = target.yardstick
      ? figure(results, target.yardstick)?.median ?? null
      : null;
    const absent = [target.figure, target.yardstick].find((id) =>
      id !== undefined && figure(results, id) === null
    );
    if (absent !== undefined) {
      return {
        target,
        value,
        yardstick,
        measure: null,
        status: "not measured",
        why: results.missing.get(absent) ?? `no figure "${absent}"`,
      };
    }
    const { check } = target;
    const v = value!;
    const y = yardstick!;
    const measure = check.kind === "max"
      ? v
      : check.kind === "delta-max"
      ? v - y
      : v / y;
    const met = check.kind === "ratio-min"
      ? measure >= check.limit
      : measure <= check.limit;
    return {
      target,
      value,
      yardstick: target.yardstick ? y : null,
      measure,
      status: met ? "met" : "not met",
    };
  });
}
