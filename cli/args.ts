/**
 * The command line of `deno task explain`: flags, their checks, and the
 * usage text printed with `--help` or after a bad argument.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fraction, oneOf, parseModelSpecs, UsageError } from "../config/mod.ts";
import { COLORMAPS } from "../lib/mod.ts";
import {
  ENGINE_PREFERENCES,
  type EnginePreference,
  type ModelSpec,
} from "../models/mod.ts";

export { UsageError };

/** The class to explain: an index, a label, or each image's top-1 (null). */
export type ClassChoice = { index: number } | { label: string } | null;

/** Everything the command line says. */
export interface CliOptions {
  /** Image files and folders, as given. */
  inputs: string[];
  /** Methods, in the order given, without duplicates. */
  methods: string[];
  /** Output folder. */
  out: string;
  /** Layer name or alias; null for the model's default. */
  layer: string | null;
  classChoice: ClassChoice;
  /** @default "jet" */
  colormap: string;
  /** @default 0.3 */
  alpha: number;
  /** Path of the HTML report; null for none. */
  report: string | null;
  /** Also write `.npy` maps. @default false */
  npy: boolean;
  /** @default "auto" */
  backend: EnginePreference;
  /** Draw the progress bar: true, false, or null for "if stderr is a terminal". */
  progress: boolean | null;
  /** The models (the first explains); the shipped ResNet-50 by default. */
  models: ModelSpec[];
  /**
   * A running server's base URL: each image goes to it as a job and no
   * model is loaded here; null: the model runs in this process.
   */
  server: string | null;
  /** With `server`: the server's model by name; null: its default. */
  serverModel: string | null;
  /** Print the methods and exit. */
  listMethods: boolean;
  /** Print the model's layers and exit. */
  listLayers: boolean;
  help: boolean;
}

/**
 * The usage text, listing the methods this build offers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = usage(["activation", "gradcam"]);
 * assert.ok(text.startsWith("Usage: deno task explain"));
 * assert.ok(text.includes("gradcam"));
 * ```
 */
export function usage(methods: readonly string[]): string {
  return `Usage: deno task explain <image|folder>... --method NAMES --out DIR [FLAGS]

Explains each image (PNG or JPEG; a folder: the images directly in it) with
each method, writes into DIR for every image and method
  <image>_<method>.png    the heatmap blended over the image
  <image>_<method>.json   the raw map: width, height, values in [0, 1], ...
and prints each image's top-5 classes.

Flags:
  --method NAMES       Comma-separated, repeatable. One of:
                       ${methods.join(", ")}
  --out DIR            Output folder (created when missing)
  --layer NAME         Layer name or alias (default: the model's default)
  --class N|LABEL      Class to explain: an index 0-999 or a label such as
                       tabby (default: each image's top-1 class)
  --colormap NAME      ${COLORMAPS.join(", ")} (default jet)
  --alpha A            Weight of the heatmap in the overlay, 0 to 1 (default 0.3)
  --report FILE        Also write one self-contained HTML page: images x methods
  --npy                Also write each map as <image>_<method>.npy (float32)
  --backend NAME       ${ENGINE_PREFERENCES.join(", ")} (default auto)
  --model SPEC         [NAME=]PATH[,labels=FILE][,preprocess=MODE][,layer=L]:
                       an .onnx file or a TF.js model.json (default: the
                       shipped Keras ResNet-50); with --server, a model
                       name of that server
  --server URL         Send each image to a running Lumen server as a job
                       (e.g. http://host:8000; needs network access) and
                       write the same files; no model is loaded here
  --list-methods       Print the methods (slow ones marked) and exit
  --list-layers        Print the model's layers (familiar names first) and exit
  --progress           Always draw the progress bar on stderr
  --no-progress        Never draw it (default: when stderr is a terminal)
  --help               Show this text

Exit status: 0 all written, 1 some file failed (the others were written; the
failures are listed), 2 bad arguments, 3 the model or the server could not
do the work.
`;
}

/** A `--server` value: an http(s) URL, as the base of `/graphql`. */
function serverUrl(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // Reported below.
  }
  if (!url || !["http:", "https:"].includes(url.protocol)) {
    throw new UsageError(
      `Invalid --server "${text}": use the server's http(s) address, e.g. http://127.0.0.1:8000`,
    );
  }
  return url.origin;
}

/**
 * Parses and checks the arguments. Methods are checked against `known`;
 * layer and class names are checked later, against the model. Throws
 * {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options = parseCliArgs(
 *   ["cat.png", "--method", "gradcam,activation", "--out", "out"],
 *   ["activation", "gradcam"],
 * );
 * assert.deepEqual(options.methods, ["gradcam", "activation"]);
 * ```
 */
export function parseCliArgs(
  args: readonly string[],
  known: readonly string[],
): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: args[0] === "--" ? args.slice(1) : [...args],
      strict: true,
      allowPositionals: true,
      allowNegative: true,
      options: {
        method: { type: "string", multiple: true },
        out: { type: "string" },
        layer: { type: "string" },
        class: { type: "string" },
        colormap: { type: "string" },
        alpha: { type: "string" },
        report: { type: "string" },
        npy: { type: "boolean" },
        backend: { type: "string" },
        model: { type: "string", multiple: true },
        server: { type: "string" },
        "list-methods": { type: "boolean" },
        "list-layers": { type: "boolean" },
        progress: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const server = values.server === undefined ? null : serverUrl(values.server);
  if (server !== null && values.backend !== undefined) {
    throw new UsageError(
      "--backend does not apply with --server: the server runs the model",
    );
  }
  if (server !== null && (values.model?.length ?? 0) > 1) {
    throw new UsageError(
      "With --server, give one --model: a server's model name",
    );
  }
  const base = {
    layer: values.layer ?? null,
    report: values.report ?? null,
    npy: values.npy ?? false,
    progress: values.progress ?? null,
    backend: oneOf("--backend", values.backend ?? "auto", {
      valid: ENGINE_PREFERENCES,
    }),
    models: server === null ? parseModelSpecs(values.model ?? []) : [],
    server,
    serverModel: server === null ? null : values.model?.[0] ?? null,
    listMethods: values["list-methods"] ?? false,
    listLayers: values["list-layers"] ?? false,
  };
  if (values.help || base.listMethods || base.listLayers) {
    return {
      ...base,
      inputs: positionals,
      methods: [],
      out: values.out ?? "",
      classChoice: null,
      colormap: "jet",
      alpha: 0.3,
      help: values.help ?? false,
    };
  }
  if (positionals.length === 0) {
    throw new UsageError("No input: give one or more images or folders");
  }
  const methods = [
    ...new Set(
      (values.method ?? []).flatMap((m) => m.split(",")).map((m) => m.trim())
        .filter((m) => m !== ""),
    ),
  ];
  if (methods.length === 0) {
    throw new UsageError("Missing --method: e.g. --method gradcam");
  }
  const unknown = methods.filter((m) => !known.includes(m));
  if (unknown.length > 0) {
    throw new UsageError(
      `Unknown method ${unknown.map((m) => `"${m}"`).join(", ")}: valid ` +
        `methods are ${known.map((m) => `"${m}"`).join(", ")}`,
    );
  }
  if (!values.out) throw new UsageError("Missing --out DIR");
  const colormap = oneOf("--colormap", values.colormap ?? "jet", {
    valid: COLORMAPS,
  });
  const alpha = fraction("--alpha", values.alpha ?? "0.3", { min: 0, max: 1 });
  let classChoice: ClassChoice = null;
  if (values.class !== undefined) {
    const text = values.class.trim();
    if (text === "") throw new UsageError("Invalid --class: empty");
    classChoice = /^\d+$/.test(text)
      ? { index: Number(text) }
      : { label: text };
  }
  return {
    ...base,
    inputs: positionals,
    methods,
    out: values.out,
    classChoice,
    colormap,
    alpha,
    help: false,
  };
}
