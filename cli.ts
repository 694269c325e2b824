/**
 * `deno task explain`: explains images from the command line with the same
 * library code as the server, in-process (no HTTP). Writes overlay PNGs and
 * raw maps, prints each image's top-5, draws a progress bar on stderr, and
 * optionally writes one self-contained HTML report.
 *
 * ```sh
 * deno task explain photos/ cat.jpg --method gradcam,scorecam --out out \
 *   --report out/report.html
 * ```
 *
 * Exit status: 0 all written, 1 a file failed (the others were written),
 * 2 bad arguments.
 *
 * @module
 */
import { resolve } from "node:path";
import { builtinExplainers, createRegistry } from "./explainers/registry.ts";
import {
  collectImages,
  createProgress,
  explainFiles,
  parseCliArgs,
  type Progress,
  renderReport,
  usage,
  UsageError,
} from "./cli/mod.ts";
import { loadModel, type ModelRuntime } from "./models/mod.ts";
import { resolveClassName } from "./schema/class_name.ts";

const encoder = new TextEncoder();

function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** Turns a client error from the model (bad layer or class) into a usage error. */
function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function resolveClass(
  runtime: ModelRuntime,
  choice: { index: number } | { label: string } | null,
): number | null {
  if (choice === null) return null;
  if ("index" in choice) {
    checked(() => runtime.checkClass(choice.index));
    return choice.index;
  }
  return checked(() => resolveClassName(runtime.labels, choice.label));
}

/**
 * Runs the CLI with `args` (relative paths resolve against `cwd`); returns
 * the exit status.
 *
 * @example
 * ```ts
 * Deno.exit(await runCli(["cat.png", "--method", "gradcam", "--out", "out"]));
 * ```
 */
export async function runCli(
  args: readonly string[],
  cwd = Deno.cwd(),
): Promise<number> {
  const registry = createRegistry(builtinExplainers());
  const methods = registry.names;
  let options;
  try {
    options = parseCliArgs(args, methods);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    writeErr(`Error: ${error.message}\n\n${usage(methods)}`);
    return 2;
  }
  if (options.help) {
    console.log(usage(methods));
    return 0;
  }
  const out = resolve(cwd, options.out);
  const reportPath = options.report === null
    ? null
    : resolve(cwd, options.report);
  const start = performance.now();
  const runtime = await loadModel({ backend: options.backend });
  let layer: string;
  let classIndex: number | null;
  try {
    layer = checked(() => runtime.catalog.resolve(options.layer)).name;
    classIndex = resolveClass(runtime, options.classChoice);
  } catch (error) {
    runtime.dispose();
    writeErr(`Error: ${(error as Error).message}\n\n${usage(methods)}`);
    return 2;
  }
  await Deno.mkdir(out, { recursive: true });
  const collected = await collectImages(
    options.inputs.map((input) => resolve(cwd, input)),
  );
  const showBar = options.progress ?? Deno.stderr.isTerminal();
  const progress: Progress | null = showBar
    ? createProgress({
      write: writeErr,
      total: collected.files.length * options.methods.length,
    })
    : null;
  console.log(
    `${runtime.name} on ${runtime.backend.name}, layer ${layer}, ` +
      `${collected.files.length} images × ${options.methods.length} methods ` +
      `→ ${out}`,
  );
  const result = await explainFiles(runtime, registry, collected.files, {
    methods: options.methods,
    layer,
    classIndex,
    colormap: options.colormap,
    alpha: options.alpha,
    out,
    npy: options.npy,
    report: reportPath !== null,
    print: (line) => console.log(line),
    progress,
  });
  runtime.dispose();
  const failures = [...collected.failures, ...result.failures];
  if (reportPath !== null) {
    await Deno.writeTextFile(
      reportPath,
      renderReport({
        methods: options.methods,
        rows: result.rows,
        failures,
        about: {
          Model: `${runtime.name} on ${runtime.backend.name}`,
          Layer: layer,
          Class: classIndex === null
            ? "each image's top-1"
            : `${runtime.labels[classIndex]} (${classIndex})`,
          "Colour map": `${options.colormap}, α ${options.alpha}`,
          Written: new Date().toISOString(),
        },
      }),
    );
    console.log(`Report: ${reportPath}`);
  }
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  console.log(`${result.written.length} files written in ${seconds} s`);
  if (failures.length > 0) {
    writeErr(
      `${failures.length} ${failures.length === 1 ? "failure" : "failures"}:\n${
        failures.map((f) => `  ${f.path}: ${f.message}`).join("\n")
      }\n`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  // `deno task` runs from the project root; INIT_CWD is where it was typed.
  Deno.exit(await runCli(Deno.args, Deno.env.get("INIT_CWD") ?? Deno.cwd()));
}
