/**
 * The model runtime: engines (TF.js on WebGPU, WASM or CPU), the layer
 * catalog, the runtime explainers share and model loading. Tensors never
 * leave this folder; everything exported works on plain arrays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeImage } from "../lib/mod.ts";
 * import { loadModel } from "./mod.ts";
 * // loadModel({ backend: "auto" }) loads the shipped ResNet-50 (seconds); here a
 * // tiny ONNX ResNet-18 (random weights).
 * const runtime = await loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 });
 * const image = await decodeImage(await Deno.readFile("tests/fixtures/chelsea.png"));
 * const pass = await runtime.run(runtime.prepare(image), { layer: "layer4" });
 * assert.equal(pass.probabilities.length, 10);
 * assert.equal(pass.activations?.channels, 64);
 * runtime.dispose();
 * ```
 *
 * @module
 */
export * from "./engine.ts";
export * from "./catalog.ts";
export * from "./runtime.ts";
export * from "./load.ts";
export * from "./labels.ts";
export * from "./randomize.ts";
export * from "./model_set.ts";
export * from "./entries.ts";
export { hashInput } from "./pass_cache.ts";
export { DEFAULT_THREADS, shutdownBackend } from "./tfjs/backend.ts";
export { ModelLoadError } from "./tfjs/io.ts";
export { tensorMemory } from "./tfjs/memory.ts";
