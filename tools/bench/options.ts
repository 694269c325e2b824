/**
 * The bench's flags: how many runs, which sections, where the report goes.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** Sections that `--skip` can leave out. */
export const SECTIONS = [
  "forward",
  "render",
  "http",
  "torch",
  "slow",
  "full-scorecam",
  "memory",
  "cache",
] as const;

/** A section of the bench. */
export type Section = typeof SECTIONS[number];

/** What one bench run does. */
export interface BenchOptions {
  /** Timed runs per round of each fast figure. */
  runs: number;
  /** Rounds; each alternates the things compared. */
  rounds: number;
  /** Timed runs of each slow method on each engine (occlusion, IG, Score-CAM). */
  slowRuns: number;
  /** Engine threads, the same for every engine and yardstick. */
  threads: number;
  /** Markdown report path. */
  out: string;
  quick: boolean;
  /** Sections left out, with why. */
  skip: Map<Section, string>;
  /** Run the scale-out jobs section (redis-server, workers: minutes). */
  jobs: boolean;
  help: boolean;
}

/** Usage text of `deno task bench`. */
export const USAGE = `Usage: deno task bench [FLAGS]

Measures issue 13's targets side by side in one run and writes the report.

Flags:
  --quick             Few runs (a smoke test, not figures): runs 3, rounds 1,
                      slow methods once, no full Score-CAM
  --runs N            Timed runs per round of each fast figure (default 10)
  --rounds N          Rounds alternating the things compared (default 3)
  --slow-runs N       Runs of occlusion, IG and Score-CAM per engine (default 3)
  --threads N         Threads of every engine and yardstick (default: every core)
  --out PATH          Report path (default BENCHMARKS.md)
  --skip SECTION      Leave a section out (repeatable): ${SECTIONS.join(", ")}
  --jobs              Also run the scale-out jobs section (redis-server and
                      worker processes; minutes)
  --help              Show this text`;

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`--${name} must be a positive integer, got "${text}"`);
  }
  return n;
}

/**
 * Parses the bench's flags. Throws on an unknown flag or section.
 *
 * @example
 * ```ts
 * const options = parseBenchFlags(["--quick", "--skip", "torch"]);
 * options.runs; // 3
 * options.skip.get("full-scorecam"); // "--quick"
 * ```
 */
export function parseBenchFlags(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      rounds: { type: "string" },
      "slow-runs": { type: "string" },
      threads: { type: "string" },
      out: { type: "string", default: "BENCHMARKS.md" },
      skip: { type: "string", multiple: true, default: [] },
      jobs: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  const quick = values.quick!;
  const skip = new Map<Section, string>();
  for (const name of values.skip!) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new Error(
        `Unknown section "${name}": valid sections are ${
          SECTIONS.map((s) => `"${s}"`).join(", ")
        }`,
      );
    }
    skip.set(name as Section, "--skip");
  }
  if (quick && !skip.has("full-scorecam")) skip.set("full-scorecam", "--quick");
  return {
    runs: positive("runs", values.runs ?? (quick ? "3" : "10")),
    rounds: positive("rounds", values.rounds ?? (quick ? "1" : "3")),
    slowRuns: positive("slow-runs", values["slow-runs"] ?? (quick ? "1" : "3")),
    threads: positive(
      "threads",
      values.threads ?? String(navigator.hardwareConcurrency || 1),
    ),
    out: values.out!,
    quick,
    skip,
    jobs: values.jobs!,
    help: values.help!,
  };
}
