/**
 * The BENCHMARKS.md text of a run: the machine and its load, how the
 * figures were taken, the targets with met / not met, every figure with
 * median, min, max and n, and what was left out. Pure.
 *
 * @module
 */
import type { Machine } from "./system.ts";
import { figure, FIGURES, type Results, type Unit } from "./results.ts";
import { type Check, judge, type TargetRow } from "./targets.ts";

/** What the report says about the run besides the figures. */
export interface RunInfo {
  /** ISO date. */
  date: string;
  machine: Machine;
  /** Load averages (1, 5, 15 min) at the start and at the end. */
  loadStart: number[];
  loadEnd: number[];
  threads: number;
  runs: number;
  rounds: number;
  slowRuns: number;
  quick: boolean;
  /** Versions, e.g. { "onnxruntime-node": "1.30.0" }. */
  versions: Record<string, string>;
  /** Extra lines for the method list (e.g. the logits agreement). */
  notes: string[];
}

/** ResNet-50's multiply-adds per forward, as FLOP. */
const RESNET50_GFLOP = 8.2;

/**
 * A value in its unit: ms with one decimal below 1000, whole above.
 *
 * @example
 * ```ts
 * formatValue(12.345, "ms"); // "12.3"
 * formatValue(45210.7, "ms"); // "45211"
 * ```
 */
export function formatValue(value: number, unit: Unit): string {
  if (unit === "req/s") return value.toFixed(2);
  if (unit === "MB") return value.toFixed(0);
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toFixed(1);
}

function formatMeasure(check: Check, measure: number, unit: Unit): string {
  switch (check.kind) {
    case "max":
      return `${formatValue(measure, unit)} ${unit}`;
    case "delta-max":
      return `${measure >= 0 ? "+" : ""}${formatValue(measure, unit)} ${unit}`;
    default:
      return `${measure.toFixed(2)}×`;
  }
}

function formatLimit(check: Check, unit: Unit): string {
  switch (check.kind) {
    case "max":
      return `≤ ${formatValue(check.limit, unit)} ${unit}`;
    case "delta-max":
      return `≤ +${check.limit} ${unit}`;
    case "ratio-max":
      return `≤ ${check.limit}×`;
    case "ratio-min":
      return `≥ ${check.limit}×`;
  }
}

/**
 * The markdown rows of a targets table, one per target, whether measured
 * or not.
 *
 * @example
 * ```ts
 * targetTable(judge(results)).length; // header + separator + one row per target
 * ```
 */
export function targetTable(rows: readonly TargetRow[]): string[] {
  const lines = [
    "| target | Lumen | yardstick | measured | limit | status |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const { target } = row;
    const unit = FIGURES[target.figure].unit;
    const v = (x: number | null) => x === null ? "–" : formatValue(x, unit);
    const status = row.status === "met"
      ? "met"
      : row.status === "not met"
      ? "**not met**"
      : `not measured (${row.why})`;
    lines.push(
      `| ${target.text} | ${v(row.value)} | ${
        target.yardstick ? v(row.yardstick) : ""
      } | ${
        row.measure === null
          ? "–"
          : formatMeasure(target.check, row.measure, unit)
      } | ${formatLimit(target.check, unit)} | ${status} |`,
    );
  }
  return lines;
}

/**
 * The table of every measured figure, in {@linkcode FIGURES} order.
 *
 * @example
 * ```ts
 * figureTable(results).join("\n");
 * ```
 */
export function figureTable(results: Results): string[] {
  const lines = [
    "| figure | median | min | max | n | unit |",
    "|---|---|---|---|---|---|",
  ];
  for (const [id, info] of Object.entries(FIGURES)) {
    const s = figure(results, id);
    if (!s) continue;
    const f = (x: number) => formatValue(x, info.unit);
    lines.push(
      `| ${info.label} | ${f(s.median)} | ${f(s.min)} | ${
        f(s.max)
      } | ${s.n} | ${info.unit} |`,
    );
  }
  return lines;
}

function gflops(results: Results, id: string): string | null {
  const s = figure(results, id);
  return s ? (RESNET50_GFLOP / (s.median / 1e3)).toFixed(0) : null;
}

/**
 * The whole report.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("BENCHMARKS.md", benchReport(results, info));
 * ```
 */
export function benchReport(results: Results, info: RunInfo): string {
  const m = info.machine;
  const load = (l: number[]) =>
    l.length ? l.map((x) => x.toFixed(2)).join(", ") : "unknown";
  const rows = judge(results);
  const lines: string[] = [
    "# Benchmarks",
    "",
    `Written by \`deno task bench\` (tools/bench/main.ts) on ${info.date}${
      info.quick ? " with `--quick`: **indicative only**, too few runs" : ""
    }.`,
    "",
    `- Machine: ${m.cpu}${
      m.family ? ` (CPU family ${m.family})` : ""
    }, ${m.cores} cores${m.mhz ? ` at ${(m.mhz / 1e3).toFixed(2)} GHz` : ""}${
      m.vectorFlags.length ? `, ${m.vectorFlags.join(", ")}` : ""
    }; Deno ${m.deno}; ${
      Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(", ")
    }. Every engine and yardstick runs ${info.threads} thread(s).`,
    `- Load average (1, 5, 15 min): ${load(info.loadStart)} at the start, ${
      load(info.loadEnd)
    } at the end (above ${m.cores}, other work shared the cores).`,
    `- Figures: median, min and max of n runs after warm-up, milliseconds unless said; fast figures pool ${info.rounds} round(s) of ${info.runs} runs in which the things compared alternate run by run; occlusion, integrated gradients and Score-CAM run ${info.slowRuns} time(s) per engine, in turns, after a cheap untimed run; full Score-CAM once. Every timed request or pass is on an image no cache has seen (chelsea.png, 451×300, with a 24×24 patch repainted; in-process passes: the preprocessed input with one value moved).`,
    "- Lumen's forward: `runtime.run(input, { layer: null })` on the preprocessed 224×224 input (the whole forward as `predict` runs it); the bare session: `InferenceSession.create` on the bytes `exportedModelBytes` gives (the graph Lumen runs), ONNX Runtime's default options with the same thread count, fed the same input; each forward starts after 50 ms idle (ONNX Runtime's default threads spin after a run and would slow the next contender; a server's requests also find idle threads). HTTP: `main.ts` as `deno task serve` starts it, `--backend onnxruntime`, one model worker, queried from this process over 127.0.0.1; its first 10 requests of each kind (no warm-up) are timed apart as `a new server's first 10`, and the HTTP rounds, which the targets read, run after them. CPU per request: the server's `/metrics` (`process_cpu_seconds_total` and its model workers' `lumen_worker_cpu_seconds_total`) and this process's own, on untimed requests of their own in turns, less what a window with no request reads. Peak RSS: a child process that loads the engines as a model worker does (the weights cache, the worker's `GLIBC_TUNABLES`), read from /proc.",
    ...info.notes.map((n) => `- ${n}`),
    "",
    "## Targets (issue 13)",
    "",
    ...targetTable(rows.filter((r) => r.target.issue13)),
    "",
    "## Earlier targets, still watched",
    "",
    ...targetTable(rows.filter((r) => !r.target.issue13)),
    "",
    "## Figures",
    "",
    ...figureTable(results),
  ];
  const achieved = [
    ["Lumen on onnxruntime", gflops(results, "forward.lumen-ort")],
    ["bare ONNX Runtime", gflops(results, "forward.bare-ort")],
    ["Lumen on TF.js WASM", gflops(results, "forward.lumen-wasm")],
    ["PyTorch", gflops(results, "torch.forward")],
  ].filter(([, g]) => g !== null);
  if (achieved.length) {
    lines.push(
      "",
      `Forward at ResNet-50's ${RESNET50_GFLOP} GFLOP: ${
        achieved.map(([k, g]) => `${k} ${g} GFLOP/s`).join(", ")
      }${
        m.peakNativeGflops
          ? ` (nominal native peak: ${m.peakNativeGflops.toFixed(0)} GFLOP/s)`
          : ""
      }.`,
    );
  }
  const left = [...results.missing.entries()];
  if (left.length) {
    lines.push("", "## Left out", "");
    const byWhy = new Map<string, string[]>();
    for (const [id, why] of left) byWhy.set(why, [...byWhy.get(why) ?? [], id]);
    for (const [why, ids] of byWhy) lines.push(`- ${ids.join(", ")}: ${why}`);
  }
  for (const section of results.sections) lines.push("", section.trimEnd());
  return lines.join("\n") + "\n";
}
