/**
 * The CLI's work: find the images, explain each with each method through
 * the explanation service (the same use case the server runs), write
 * overlays and raw maps, and keep going past a file that fails.
 *
 * @module
 */
import { basename, extname, join, resolve } from "node:path";
import type { Prediction } from "../explainers/mod.ts";
import type {
  AnalysisSummary,
  CheckedExplain,
  MethodMap,
  MethodRendering,
} from "../explain/mod.ts";
import { encodeBase64, encodeNpy, readImageHeader } from "../lib/mod.ts";
import type { ExplainService } from "../workers/mod.ts";
import type { Progress } from "./progress.ts";
import { displayLabel, type ReportCell, type ReportRow } from "./report.ts";

/** Extensions picked up from folders (any file named explicitly is tried). */
export const IMAGE_EXTENSIONS: readonly string[] = [".png", ".jpg", ".jpeg"];

/** A file that could not be explained, and why. */
export interface Failure {
  path: string;
  message: string;
}

/**
 * Expands the inputs: files as given, folders to the images directly in
 * them (by name). Missing paths and folders without images are failures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolve } from "node:path";
 * const { files, failures } = await collectImages([
 *   "tests/fixtures/chelsea.png",
 *   "no-such-folder/",
 * ]);
 * assert.deepEqual(files, [resolve("tests/fixtures/chelsea.png")]); // absolute
 * assert.equal(failures[0].path, "no-such-folder/");
 * ```
 */
export async function collectImages(
  inputs: readonly string[],
): Promise<{ files: string[]; failures: Failure[] }> {
  const files: string[] = [];
  const failures: Failure[] = [];
  for (const input of inputs) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(input);
    } catch (error) {
      failures.push({
        path: input,
        message: error instanceof Deno.errors.NotFound
          ? "No such file or folder"
          : (error as Error).message,
      });
      continue;
    }
    if (!info.isDirectory) {
      files.push(input);
      continue;
    }
    const found: string[] = [];
    for await (const entry of Deno.readDir(input)) {
      const extension = extname(entry.name).toLowerCase();
      if (entry.isFile && IMAGE_EXTENSIONS.includes(extension)) {
        found.push(join(input, entry.name));
      }
    }
    if (found.length === 0) {
      failures.push({
        path: input,
        message: `No images in this folder (${IMAGE_EXTENSIONS.join(", ")})`,
      });
    }
    files.push(...found.sort());
  }
  return { files: [...new Set(files.map((f) => resolve(f)))], failures };
}

/**
 * A file-name stem for an image's outputs, unique among `used` (which it
 * joins): the name without extension, odd characters replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const used = new Set<string>();
 * assert.equal(outputStem("a/cat.png", used), "cat");
 * assert.equal(outputStem("b/cat.jpg", used), "cat-2");
 * ```
 */
export function outputStem(path: string, used: Set<string>): string {
  const name = basename(path, extname(path)).replace(/[^\w.-]+/g, "-")
    .replace(/^-+|-+$/g, "") || "image";
  let stem = name;
  for (let n = 2; used.has(stem); n++) stem = `${name}-${n}`;
  used.add(stem);
  return stem;
}

/** Settings of {@linkcode explainFiles}. */
export interface ExplainFilesOptions {
  /** The checked request every file is explained with. */
  request: CheckedExplain;
  /** Output folder (must exist). */
  out: string;
  npy: boolean;
  /** Keep what the HTML report needs. */
  report: boolean;
  /** Prints a line to stdout. */
  print: (line: string) => void;
  progress: Progress | null;
}

/** What {@linkcode explainFiles} did. */
export interface ExplainFilesResult {
  /** Paths written. */
  written: string[];
  failures: Failure[];
  /** Rows of the HTML report (empty unless asked for). */
  rows: ReportRow[];
}

function percent(p: number): string {
  return `${(p * 100).toFixed(2)}%`.padStart(7);
}

function topLines(top: Prediction[]): string[] {
  return top.map((p, i) =>
    `  ${i + 1}. ${percent(p.probability)}  ${
      displayLabel(p.label)
    } (${p.classIndex})`
  );
}

/** Writes one method's outputs; returns its report cell. */
async function writeMethod(
  analysis: AnalysisSummary,
  map: MethodMap,
  rendering: MethodRendering,
  context: {
    path: string;
    base: string;
    npy: boolean;
    report: boolean;
    write: (path: string, data: Uint8Array | string) => Promise<void>;
    print: (line: string) => void;
  },
): Promise<ReportCell> {
  const { base, write } = context;
  const { heatmap, method } = map;
  const { classIndex, label, probability, layer } = analysis;
  const png = rendering.overlay!;
  await write(`${base}.png`, png);
  await write(
    `${base}.json`,
    JSON.stringify({
      image: context.path,
      method,
      layer,
      classIndex,
      label,
      probability,
      width: heatmap.width,
      height: heatmap.height,
      rawMin: heatmap.rawMin,
      rawMax: heatmap.rawMax,
      values: Array.from(heatmap.values),
      ...(map.details ? { details: map.details } : {}),
    }) + "\n",
  );
  if (context.npy) {
    await write(`${base}.npy`, encodeNpy(heatmap));
  }
  context.print(
    `  ${method}: ${base}.png (map ${heatmap.width}×${heatmap.height}, ` +
      `${Math.round(map.explainMs)} ms)`,
  );
  return context.report
    ? {
      overlay: `data:image/png;base64,${encodeBase64(png)}`,
      label,
      classIndex,
      probability,
      layer,
      explainMs: map.explainMs,
    }
    : { error: "" };
}

/**
 * Explains every file with every method of the checked request, through
 * the explanation service (in this process, or a server's: `remote.ts`).
 * A file that fails (unreadable, not an image, a method error) is recorded
 * and the next one goes on; files already written stay.
 *
 * @example
 * ```ts ignore
 * // `service`: a loaded model's (createLocalService) or a server's (remoteService)
 * const result = await explainFiles(service, files, {
 *   request: checkExplain({ model, registry }, { methods: ["gradcam"], outputs: { heatmap: false } }, limits),
 *   out: "out", npy: false, report: false, print: console.log, progress: null,
 * });
 * ```
 */
export async function explainFiles(
  service: Pick<ExplainService, "explain">,
  files: readonly string[],
  options: ExplainFilesOptions,
): Promise<ExplainFilesResult> {
  const written: string[] = [];
  const failures: Failure[] = [];
  const rows: ReportRow[] = [];
  const used = new Set<string>();
  const { methods } = options.request;
  const total = files.length * methods.length;
  let done = 0;
  const print = (line: string) => {
    options.progress?.clear();
    options.print(line);
  };
  const write = async (path: string, data: Uint8Array | string) => {
    if (typeof data === "string") await Deno.writeTextFile(path, data);
    else await Deno.writeFile(path, data);
    written.push(path);
  };
  for (const [i, path] of files.entries()) {
    const name = basename(path);
    const stem = outputStem(path, used);
    options.progress?.update(done, `${name} · reading`);
    const cells = new Map<string, Promise<ReportCell>>();
    try {
      const bytes = await Deno.readFile(path);
      const outcome = await service.explain(
        { ...options.request, image: bytes },
        {
          onAnalysis(analysis) {
            const { width, height } = analysis.image;
            print(
              `${name} (${width}×${height}), ${i + 1}/${files.length}: ` +
                `forward ${Math.round(analysis.forwardMs)} ms`,
            );
            for (const line of topLines(analysis.predictions)) print(line);
            options.progress?.update(done, `${name} · ${methods[0]}`);
          },
          onProgress: (method, fraction) =>
            options.progress?.update(done, `${name} · ${method}`, fraction),
          onMethodError(method, error) {
            const message = (error as Error).message ?? String(error);
            failures.push({ path, message: `${method}: ${message}` });
            print(`  ${method}: failed: ${message}`);
            cells.set(method, Promise.resolve({ error: message }));
            options.progress?.update(++done, name);
          },
        },
      );
      for (const result of outcome.methods) {
        if (!result.map || !result.rendering) continue;
        cells.set(
          result.method,
          writeMethod(outcome.analysis, result.map, result.rendering, {
            path,
            base: join(options.out, `${stem}_${result.method}`),
            npy: options.npy,
            report: options.report,
            write,
            print,
          }),
        );
        options.progress?.update(++done, name);
      }
      const reportCells = await Promise.all(
        methods.map((m) => cells.get(m) ?? Promise.resolve({ error: "" })),
      );
      if (options.report) {
        const { width, height } = outcome.analysis.image;
        const format = readImageHeader(bytes).format;
        rows.push({
          name,
          image: `data:image/${format};base64,${encodeBase64(bytes)}`,
          width,
          height,
          top: outcome.analysis.predictions,
          cells: reportCells,
        });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ path, message });
      print(`${name}: failed: ${message}`);
      done = (i + 1) * methods.length;
    }
  }
  options.progress?.update(total, "done");
  options.progress?.clear();
  return { written, failures, rows };
}
