/**
 * `deno task explain`: explains images from the command line through the
 * same explanation core as the server, in this process (no HTTP), or with
 * `--server URL` as jobs on a running server (no model loaded here). Writes
 * overlay PNGs and raw maps, prints each image's top-5, draws a progress
 * bar on stderr, and optionally writes one self-contained HTML report.
 *
 * ```sh
 * deno task explain photos/ cat.jpg --method gradcam,scorecam --out out \
 *   --report out/report.html
 * ```
 *
 * Exit status: 0 all written, 1 a file failed (the others were written),
 * 2 bad arguments, 3 the model could not do the work (`cli/exit.ts`).
 *
 * @module
 */
import { resolve } from "node:path";
import {
  collectImages,
  createProgress,
  EXIT,
  EXIT_STATUS,
  explainFiles,
  parseCliArgs,
  type Progress,
  type RemoteService,
  remoteService,
  renderReport,
  usage,
  UsageError,
} from "./cli/mod.ts";
import { checkExplain } from "./explain/mod.ts";
import { builtinExplainers, createRegistry } from "./explainers/registry.ts";
import { isClientError } from "./lib/errors.ts";
import { createModelSet, modelEntries } from "./models/mod.ts";
import {
  createLocalService,
  type ModelDescription,
  modelView,
} from "./workers/mod.ts";

const encoder = new TextEncoder();

function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** `n thing`, `n things`. */
function count(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? "" : "s"}`;
}

/** The layers, the familiar names first, then every explainable one. */
function layerLines(model: ModelDescription): string[] {
  const explainable = model.layers.filter((l) => l.explainable);
  const named = explainable.filter((l) => l.aliases.length > 0);
  const line = (l: (typeof explainable)[number]) =>
    `  ${[...l.aliases, l.name].join(" = ")}  [${l.shape.join("×")}] ${l.kind}${
      l.name === model.defaultLayer ? "  (default)" : ""
    }`;
  return [
    `${model.name}: ${explainable.length} explainable layers (any name below works with --layer)`,
    ...named.map(line),
    ...(named.length < explainable.length
      ? [
        "Without other names:",
        ...explainable.filter((l) => l.aliases.length === 0).map(line),
      ]
      : []),
  ];
}

/**
 * Runs the CLI with `args` (relative paths resolve against `cwd`); returns
 * the exit status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT } from "./cli/exit.ts";
 * // In a terminal: Deno.exit(await runCli(["cat.png", "--method", "gradcam", "--out", "out"]))
 * // Here with a tiny ONNX ResNet-18 (random weights) instead of the shipped ResNet-50.
 * const out = await Deno.makeTempDir();
 * const status = await runCli([
 *   "tests/fixtures/chelsea.png", "--method", "gradcam", "--out", out,
 *   "--model", "tests/fixtures/onnx/resnet18.onnx", "--no-progress",
 * ]);
 * assert.equal(status, EXIT.ok);
 * assert.ok((await Deno.stat(`${out}/chelsea_gradcam.png`)).isFile);
 * await Deno.remove(out, { recursive: true });
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
    return EXIT.usage;
  }
  if (options.help) {
    console.log(usage(methods));
    return EXIT.ok;
  }
  if (options.listMethods) {
    for (const e of registry.list()) {
      console.log(`${e.name}${e.slow ? " (slow)" : ""}: ${e.description}`);
    }
    return EXIT.ok;
  }
  const start = performance.now();
  const service: RemoteService = options.server !== null
    ? remoteService(options.server)
    : createLocalService({
      models: createModelSet(
        modelEntries(
          options.models.map((m) => ({
            ...m,
            path: m.path === null ? null : resolve(cwd, m.path),
            labels: m.labels === null ? null : resolve(cwd, m.labels),
          })),
          { backend: options.backend },
        ),
      ),
      registry,
    });
  try {
    const model = options.serverModel === null
      ? await service.ready()
      : await service.describe(options.serverModel);
    if (options.listLayers) {
      for (const line of layerLines(model)) console.log(line);
      return EXIT.ok;
    }
    const { classChoice } = options;
    const request = checkExplain(
      { model: modelView(model), registry },
      {
        methods: options.methods,
        layer: options.layer,
        ...(classChoice && "index" in classChoice
          ? { classIndex: classChoice.index }
          : {}),
        ...(classChoice && "label" in classChoice
          ? { className: classChoice.label }
          : {}),
        render: { colormap: options.colormap, alpha: options.alpha },
        outputs: { maps: true, overlay: true, heatmap: false },
      },
      { maxMethods: methods.length },
    );
    const out = resolve(cwd, options.out);
    const reportPath = options.report === null
      ? null
      : resolve(cwd, options.report);
    await Deno.mkdir(out, { recursive: true });
    const collected = await collectImages(
      options.inputs.map((input) => resolve(cwd, input)),
    );
    const showBar = options.progress ?? Deno.stderr.isTerminal();
    const progress: Progress | null = showBar
      ? createProgress({
        write: writeErr,
        total: collected.files.length * request.methods.length,
      })
      : null;
    const where = options.server === null ? "" : ` at ${options.server}`;
    console.log(
      `${model.name} on ${model.backend.name}${where}, layer ${request.layer}, ` +
        `${count(collected.files.length, "image")} × ${
          count(request.methods.length, "method")
        } → ${out}`,
    );
    const result = await explainFiles(service, collected.files, {
      request,
      out,
      npy: options.npy,
      report: reportPath !== null,
      print: (line) => console.log(line),
      progress,
    });
    const failures = [...collected.failures, ...result.failures];
    if (reportPath !== null) {
      await Deno.writeTextFile(
        reportPath,
        renderReport({
          methods: request.methods,
          rows: result.rows,
          failures,
          about: {
            Model: `${model.name} on ${model.backend.name}${where}`,
            Layer: request.layer,
            Class: request.classIndex === null
              ? "each image's top-1"
              : `${model.labels[request.classIndex]} (${request.classIndex})`,
            "Colour map": `${options.colormap}, α ${options.alpha}`,
            Written: new Date().toISOString(),
          },
        }),
      );
      console.log(`Report: ${reportPath}`);
    }
    const seconds = ((performance.now() - start) / 1000).toFixed(1);
    console.log(
      `${count(result.written.length, "file")} written in ${seconds} s`,
    );
    if (failures.length > 0) {
      writeErr(
        `${count(failures.length, "failure")}:\n${
          failures.map((f) => `  ${f.path}: ${f.message}`).join("\n")
        }\n`,
      );
      return EXIT.someFilesFailed;
    }
    return EXIT.ok;
  } catch (error) {
    if (!isClientError(error)) throw error;
    const status = EXIT_STATUS[error.code];
    writeErr(
      `Error: ${error.message}\n${
        status === EXIT.usage ? `\n${usage(methods)}` : ""
      }`,
    );
    return status;
  } finally {
    await service.close();
  }
}

if (import.meta.main) {
  // `deno task` runs from the project root; INIT_CWD is where it was typed.
  Deno.exit(await runCli(Deno.args, Deno.env.get("INIT_CWD") ?? Deno.cwd()));
}
