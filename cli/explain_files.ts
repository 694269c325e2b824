/**
 * The CLI's work: find the images, explain each with each method through
 * the same library code the server uses (`analyzeImage`, `renderExplanationRgb`,
 * `encodePng`), write overlays and raw maps, and keep going past a file
 * that fails.
 *
 * @module
 */
import { basename, extname, join, resolve } from "node:path";
import {
  analyzeImage,
  type ImageAnalysis,
  type Prediction,
} from "../explainers/analysis.ts";
import type { Registry } from "../explainers/registry.ts";
import { encodeBase64 } from "../lib/base64.ts";
import { decodeImage, readImageHeader, type RgbImage } from "../lib/image.ts";
import { encodeNpy } from "../lib/npy.ts";
import { encodePng, renderExplanationRgb } from "../lib/render.ts";
import type { ModelRuntime } from "../models/mod.ts";
import type { Progress } from "./progress.ts";
import type { ReportCell, ReportRow } from "./report.ts";

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
 * const { files, failures } = await collectImages(["photos/", "cat.png"]);
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
 * const used = new Set<string>();
 * outputStem("a/cat.png", used); // "cat"
 * outputStem("b/cat.jpg", used); // "cat-2"
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
  methods: readonly string[];
  /** Resolved layer name. */
  layer: string;
  /** The class to explain; null for each image's top-1. */
  classIndex: number | null;
  colormap: string;
  alpha: number;
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
    `  ${i + 1}. ${percent(p.probability)}  ${p.label} (${p.classIndex})`
  );
}

/** Renders and writes one method's outputs; returns its report cell. */
async function explainOne(
  analysis: ImageAnalysis,
  method: string,
  context: ExplainFilesOptions & {
    image: RgbImage;
    labels: readonly string[];
    path: string;
    base: string;
    write: (path: string, data: Uint8Array | string) => Promise<void>;
    print: (line: string) => void;
    onProgress: (fraction: number) => void;
  },
): Promise<ReportCell> {
  const { image, base, write } = context;
  const result = await analysis.explain(method, {
    onProgress: context.onProgress,
  });
  const { heatmap } = result;
  const classIndex = analysis.classIndex;
  const label = context.labels[classIndex];
  const probability = analysis.pass.probabilities[classIndex];
  const rgb = renderExplanationRgb(
    image,
    heatmap.values,
    heatmap.width,
    heatmap.height,
    { colormap: context.colormap, alpha: context.alpha },
  );
  const png = await encodePng(image.width, image.height, rgb.overlay);
  await write(`${base}.png`, png);
  await write(
    `${base}.json`,
    JSON.stringify({
      image: context.path,
      method,
      layer: analysis.layer.name,
      classIndex,
      label,
      probability,
      width: heatmap.width,
      height: heatmap.height,
      rawMin: heatmap.rawMin,
      rawMax: heatmap.rawMax,
      values: Array.from(heatmap.values),
      ...(result.details ? { details: result.details } : {}),
    }) + "\n",
  );
  if (context.npy) {
    await write(
      `${base}.npy`,
      encodeNpy(heatmap.values, heatmap.width, heatmap.height),
    );
  }
  context.print(
    `  ${method}: ${base}.png (map ${heatmap.width}×${heatmap.height}, ` +
      `${Math.round(result.explainMs)} ms)`,
  );
  return context.report
    ? {
      overlay: `data:image/png;base64,${encodeBase64(png)}`,
      label,
      classIndex,
      probability,
      layer: analysis.layer.name,
      explainMs: result.explainMs,
    }
    : { error: "" };
}

/**
 * Explains every file with every method. A file that fails (unreadable, not
 * an image, a method error) is recorded and the next one goes on; files
 * already written stay.
 *
 * @example
 * ```ts
 * const result = await explainFiles(runtime, registry, files, {
 *   methods: ["gradcam"], layer: "activation_48", classIndex: null,
 *   colormap: "jet", alpha: 0.3, out: "out", npy: false, report: false,
 *   print: console.log, progress: null,
 * });
 * ```
 */
export async function explainFiles(
  runtime: ModelRuntime,
  registry: Registry,
  files: readonly string[],
  options: ExplainFilesOptions,
): Promise<ExplainFilesResult> {
  const written: string[] = [];
  const failures: Failure[] = [];
  const rows: ReportRow[] = [];
  const used = new Set<string>();
  const total = files.length * options.methods.length;
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
    try {
      const bytes = await Deno.readFile(path);
      const image = await decodeImage(bytes);
      const analysis = await analyzeImage(runtime, registry, image, {
        methods: options.methods,
        layer: options.layer,
        classIndex: options.classIndex,
      });
      const top = analysis.top(5);
      print(
        `${name} (${image.width}×${image.height}), ${i + 1}/${files.length}: ` +
          `forward ${Math.round(analysis.forwardMs)} ms`,
      );
      for (const line of topLines(top)) print(line);
      const cells: ReportCell[] = [];
      for (const method of options.methods) {
        const step = `${name} · ${method}`;
        options.progress?.update(done, step);
        try {
          cells.push(
            await explainOne(analysis, method, {
              ...options,
              image,
              labels: runtime.labels,
              path,
              base: join(options.out, `${stem}_${method}`),
              write,
              print,
              onProgress: (f) => options.progress?.update(done, step, f),
            }),
          );
        } catch (error) {
          const message = error instanceof Error
            ? error.message
            : String(error);
          failures.push({ path, message: `${method}: ${message}` });
          print(`  ${method}: failed: ${message}`);
          cells.push({ error: message });
        }
        done++;
      }
      if (options.report) {
        const format = readImageHeader(bytes).format;
        rows.push({
          name,
          image: `data:image/${format};base64,${encodeBase64(bytes)}`,
          width: image.width,
          height: image.height,
          top,
          cells,
        });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ path, message });
      print(`${name}: failed: ${message}`);
      done = (i + 1) * options.methods.length;
    }
  }
  options.progress?.update(total, "done");
  options.progress?.clear();
  return { written, failures, rows };
}
