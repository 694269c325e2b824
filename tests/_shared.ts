/**
 * Test fixtures shared across test files: the real ResNet-50 (loaded once per
 * process) and a tiny random ResNet-like network for fast, exact checks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { decodeImage, type RgbImage } from "../lib/image.ts";
import {
  loadModel,
  type LoadOptions,
  type ModelRuntime,
} from "../models/mod.ts";
import {
  type BackendPreference,
  selectBackend,
} from "../models/tfjs/backend.ts";

let resnet: Promise<ModelRuntime> | null = null;

/** The shipped ResNet-50 on WASM, loaded once and shared by all tests. */
export function sharedResNet50(): Promise<ModelRuntime> {
  resnet ??= loadModel({ backend: "wasm" });
  return resnet;
}

let resnetOnnx: Promise<ModelRuntime> | null = null;

/** The shipped ResNet-50 on ONNX Runtime, loaded once per process. */
export function sharedResNet50Onnx(): Promise<ModelRuntime> {
  resnetOnnx ??= loadModel({ backend: "onnxruntime" });
  return resnetOnnx;
}

/** Reads a file from tests/fixtures/. */
export function fixtureBytes(name: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Decodes a fixture image. */
export async function fixtureImage(name: string): Promise<RgbImage> {
  return decodeImage(await fixtureBytes(name));
}

/**
 * A small random network with the shapes of a ResNet: a stem conv, one
 * bottleneck block with a projection shortcut (conv/BN/ReLU ×3 + conv/BN,
 * Add, ReLU), global average pooling and a softmax Dense. Seeded, so every
 * call gives the same weights.
 */
export function tinyResNet(
  options: {
    size?: number | undefined;
    classes?: number | undefined;
    seed?: number | undefined;
  } = {},
): tfl.LayersModel {
  const size = options.size ?? 32;
  const classes = options.classes ?? 10;
  let seed = options.seed ?? 7;
  const init = () => tfl.initializers.glorotNormal({ seed: seed++ });
  const conv = (filters: number, kernel: number, name: string, stride = 1) =>
    tfl.layers.conv2d({
      filters,
      kernelSize: kernel,
      strides: stride,
      padding: "same",
      name,
      kernelInitializer: init(),
      biasInitializer: tfl.initializers.randomNormal({
        stddev: 0.1,
        seed: seed++,
      }),
    });
  const bn = (name: string) =>
    tfl.layers.batchNormalization({
      name,
      epsilon: 0.001,
      gammaInitializer: tfl.initializers.randomUniform({
        minval: 0.5,
        maxval: 1.5,
        seed: seed++,
      }),
      betaInitializer: tfl.initializers.randomNormal({
        stddev: 0.1,
        seed: seed++,
      }),
      movingMeanInitializer: tfl.initializers.randomNormal({
        stddev: 0.1,
        seed: seed++,
      }),
      movingVarianceInitializer: tfl.initializers.randomUniform({
        minval: 0.5,
        maxval: 1.5,
        seed: seed++,
      }),
    });
  const relu = (name: string) =>
    tfl.layers.activation({ activation: "relu", name });
  const input = tfl.input({ shape: [size, size, 3], name: "input" });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor) =>
    layer.apply(x) as tfl.SymbolicTensor;
  let x = apply(
    relu("stem_relu"),
    apply(bn("stem_bn"), apply(conv(8, 3, "stem_conv", 2), input)),
  );
  const blockIn = x;
  let y = apply(
    relu("b_relu1"),
    apply(bn("b_bn1"), apply(conv(4, 1, "b_conv1"), x)),
  );
  y = apply(
    relu("b_relu2"),
    apply(bn("b_bn2"), apply(conv(4, 3, "b_conv2"), y)),
  );
  y = apply(bn("b_bn3"), apply(conv(16, 1, "b_conv3"), y));
  const shortcut = apply(bn("b_bn0"), apply(conv(16, 1, "b_conv0"), blockIn));
  x = tfl.layers.add({ name: "b_add" }).apply([
    y,
    shortcut,
  ]) as tfl.SymbolicTensor;
  x = apply(relu("b_out"), x);
  x = apply(tfl.layers.globalAveragePooling2d({ name: "gap" }), x);
  const out = apply(
    tfl.layers.dense({
      units: classes,
      activation: "softmax",
      name: "logits",
      kernelInitializer: init(),
    }),
    x,
  );
  return tfl.model({ inputs: input, outputs: out });
}

/** Saves a layers model to memory and returns an IO handler that loads it. */
export async function inMemoryHandler(
  model: tfl.LayersModel,
): Promise<tf.io.IOHandler> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: "JSON",
      },
    });
  }));
  return tf.io.fromMemory(artifacts!);
}

/** Loads the tiny network as a runtime on `backend`. */
export async function tinyRuntime(
  backend: BackendPreference = "wasm",
  options: { size?: number } & LoadOptions = {},
): Promise<ModelRuntime> {
  // Build the weights on the backend under test, not on TF.js' default.
  await selectBackend(backend);
  const { size, ...load } = options;
  const model = tinyResNet({ size });
  const handler = await inMemoryHandler(model);
  model.dispose();
  return loadModel({
    model: handler,
    backend,
    preprocessing: "tf",
    name: "tiny",
    ...load,
  });
}

/** Writes the tiny network as a model.json + weights in `dir`. */
export async function writeTinyModel(dir: string): Promise<string> {
  await selectBackend("cpu");
  const model = tinyResNet();
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    await Deno.writeFile(
      `${dir}/weights.bin`,
      new Uint8Array(artifacts.weightData as ArrayBuffer),
    );
    await Deno.writeTextFile(
      `${dir}/model.json`,
      JSON.stringify({
        format: "layers-model",
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{
          paths: ["weights.bin"],
          weights: artifacts.weightSpecs,
        }],
      }),
    );
    return {
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    };
  }));
  model.dispose();
  return `${dir}/model.json`;
}
