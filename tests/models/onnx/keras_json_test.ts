/**
 * The ONNX export from a layers model's files (no TF.js backend) equals the
 * export from the model loaded on a backend, byte for byte, and leaves the
 * backend untouched; what the reader does not handle falls back to loading.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { readKerasArtifacts } from "../../../models/onnx/_keras_json.ts";
import {
  exportedModelBytes,
  exportKerasArtifacts,
  exportLayersModel,
} from "../../../models/onnx/export_tfjs.ts";
import { exportTfjsModel } from "../../../models/onnx/load.ts";
import type { OnnxSource } from "../../../models/onnx/source.ts";
import { RESNET50_MODEL } from "../../../models/load.ts";
import { selectBackend } from "../../../models/tfjs/backend.ts";
import { fileHandler } from "../../../models/tfjs/io.ts";
import { inMemoryHandler, tinyResNet } from "../../_shared.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

/** The ONNX bytes of the graph cut at `layer` (null: the whole graph). */
function bytesAt(source: OnnxSource, layer: string | null): Uint8Array {
  return exportedModelBytes({
    ...source,
    graphFor: () => source.graphFor(layer),
  });
}

/** Both exports of the same artifacts: from the files, and loaded. */
async function bothExports(
  artifacts: tf.io.ModelArtifacts,
): Promise<[OnnxSource, OnnxSource]> {
  const fromFiles = await exportKerasArtifacts(artifacts);
  assert.ok(fromFiles, "the reader handles this model");
  const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  try {
    return [fromFiles, await exportLayersModel(model)];
  } finally {
    model.dispose();
  }
}

function assertSameExport(
  a: OnnxSource,
  b: OnnxSource,
  layers: readonly (string | null)[],
): void {
  assert.deepEqual(a.layers, b.layers);
  assert.deepEqual(
    [a.input, a.classes, a.defaultLayer, a.weightBytes],
    [b.input, b.classes, b.defaultLayer, b.weightBytes],
  );
  for (const layer of layers) {
    assert.deepEqual(bytesAt(a, layer), bytesAt(b, layer), `at ${layer}`);
  }
}

test("the tiny ResNet from its artifacts: the same ONNX bytes at every layer as loaded", async () => {
  await selectBackend("cpu");
  const model = tinyResNet({ size: 24 });
  const handler = await inMemoryHandler(model);
  model.dispose();
  const [a, b] = await bothExports(await handler.load!());
  assertSameExport(a, b, [null, ...b.layers.map((l) => l.name)]);
});

test("the shipped ResNet-50 from its files: the same ONNX bytes as loaded, the backend untouched", async () => {
  await selectBackend("cpu");
  const artifacts = await fileHandler(RESNET50_MODEL).load!();
  const before = tf.memory();
  const fromFiles = await exportTfjsModel(RESNET50_MODEL);
  // Nothing was allocated on the backend, and nothing is left there.
  assert.equal(tf.memory().numBytes, before.numBytes);
  assert.equal(tf.memory().numTensors, before.numTensors);
  const [, loaded] = await bothExports(artifacts);
  // At the default layer, inside a conv chain, at a BatchNorm and at the input.
  assertSameExport(fromFiles, loaded, [
    null,
    "activation_40",
    "res4f_branch2a",
    "bn4f_branch2b",
    "input_1",
  ]);
});

/** The artifacts with every weight stored as uint8 (TF.js' affine quantization). */
function quantize(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const floats = new Float32Array(artifacts.weightData as ArrayBuffer);
  const bytes = new Uint8Array(floats.length);
  let at = 0;
  const weightSpecs = artifacts.weightSpecs!.map((spec) => {
    const n = spec.shape.reduce((p, d) => p * d, 1);
    const values = floats.subarray(at, at + n);
    const min = Math.min(...values);
    const scale = (Math.max(...values) - min) / 255 || 1;
    values.forEach((v, i) => bytes[at + i] = Math.round((v - min) / scale));
    at += n;
    return { ...spec, quantization: { dtype: "uint8" as const, scale, min } };
  });
  return { ...artifacts, weightSpecs, weightData: bytes.buffer };
}

test("what the reader declines (Sequential, quantized, unplaceable weights) loads as before", async () => {
  await selectBackend("cpu");
  const sequential = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3 }),
      tfl.layers.globalAveragePooling2d({}),
    ],
  });
  const seqArtifacts = await (await inMemoryHandler(sequential)).load!();
  sequential.dispose();
  assert.equal(readKerasArtifacts(seqArtifacts), null);

  const model = tinyResNet({ size: 16 });
  const artifacts = await (await inMemoryHandler(model)).load!();
  model.dispose();
  assert.ok(readKerasArtifacts(artifacts));
  const renamed = {
    ...artifacts,
    weightSpecs: artifacts.weightSpecs!.map((s) => ({
      ...s,
      name: `x/${s.name}`,
    })),
  };
  assert.equal(readKerasArtifacts(renamed), null);
  const quantized = quantize(artifacts);
  assert.equal(readKerasArtifacts(quantized), null);
  // Loaded on the backend instead, and released after.
  const before = tf.memory().numTensors;
  const exported = await exportTfjsModel(tf.io.fromMemory(quantized));
  assert.equal(tf.memory().numTensors, before);
  const plain = await exportKerasArtifacts(artifacts);
  assert.deepEqual(exported.layers, plain!.layers);
  assert.notDeepEqual(bytesAt(exported, null), bytesAt(plain!, null)); // rounded weights
});
