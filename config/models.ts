/**
 * Which models a process serves: `--model NAME=PATH[,labels=FILE]
 * [,preprocess=caffe|tf|torch|none][,layer=LAYER]` (repeatable; PATH an
 * `.onnx` file or a TF.js `model.json`), the shipped ResNet-50 when none is
 * given. Specs are plain data: the server hands them to its model workers.
 *
 * @module
 */
import { basename, dirname, extname } from "node:path";
import { PREPROCESS_MODES, type PreprocessMode } from "../lib/mod.ts";
import { type ModelSpec, SHIPPED_MODEL } from "../models/mod.ts";
import { UsageError } from "./flags.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A default name for a model file: `model.json` → its folder, else the file stem. */
function nameOf(path: string): string {
  const stem = basename(path) === "model.json"
    ? basename(dirname(path))
    : basename(path, extname(path));
  return stem.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+/, "") ||
    "model";
}

/**
 * Parses one `--model` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseModelSpec("mobilenet=m.onnx,preprocess=torch,labels=l.txt"), {
 *   name: "mobilenet",
 *   path: "m.onnx",
 *   labels: "l.txt",
 *   preprocess: "torch",
 *   layer: null,
 * });
 * ```
 */
export function parseModelSpec(text: string): ModelSpec {
  const [head, ...options] = text.split(",");
  const eq = head.indexOf("=");
  const path = (eq < 0 ? head : head.slice(eq + 1)).trim();
  const name = eq < 0 ? nameOf(path) : head.slice(0, eq).trim();
  if (path === "") {
    throw new UsageError(`Invalid --model "${text}": give NAME=PATH`);
  }
  if (!NAME.test(name)) {
    throw new UsageError(
      `Invalid --model name "${name}": use letters, digits, ".", "_" or "-"`,
    );
  }
  if (![".onnx", ".json"].includes(extname(path).toLowerCase())) {
    throw new UsageError(
      `Invalid --model "${text}": PATH must be an .onnx file or a TF.js model.json`,
    );
  }
  const spec: ModelSpec = {
    name,
    path,
    labels: null,
    preprocess: null,
    layer: null,
  };
  for (const option of options) {
    const at = option.indexOf("=");
    const key = option.slice(0, at).trim();
    const value = option.slice(at + 1).trim();
    if (at < 0 || value === "") {
      throw new UsageError(
        `Invalid --model option "${option}": use key=value (labels, preprocess, layer)`,
      );
    }
    if (key === "labels") spec.labels = value;
    else if (key === "layer") spec.layer = value;
    else if (key === "preprocess") {
      if (!(PREPROCESS_MODES as readonly string[]).includes(value)) {
        throw new UsageError(
          `Invalid preprocess "${value}" of model "${name}": use ${
            PREPROCESS_MODES.join(", ")
          }`,
        );
      }
      spec.preprocess = value as PreprocessMode;
    } else {
      throw new UsageError(
        `Unknown --model option "${key}" of model "${name}": use labels, preprocess or layer`,
      );
    }
  }
  return spec;
}

/**
 * Parses every `--model` value (none: the shipped ResNet-50); names must be
 * unique.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHIPPED_MODEL } from "../models/mod.ts";
 * assert.deepEqual(parseModelSpecs([]), [SHIPPED_MODEL]);
 * ```
 */
export function parseModelSpecs(texts: readonly string[]): ModelSpec[] {
  if (texts.length === 0) return [{ ...SHIPPED_MODEL }];
  const specs = texts.map(parseModelSpec);
  const seen = new Set<string>();
  for (const { name } of specs) {
    if (seen.has(name)) {
      throw new UsageError(`Duplicate --model name "${name}"`);
    }
    seen.add(name);
  }
  return specs;
}
