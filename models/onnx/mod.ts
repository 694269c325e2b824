/**
 * The ONNX Runtime engine: TF.js layers models exported to ONNX at load
 * time, and users' `.onnx` classifiers, run by native ONNX Runtime behind
 * the same `Engine` contract (`../engine.ts`) as TF.js, gradients included (a
 * backward graph written out as ONNX nodes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOnnxEngine } from "./mod.ts";
 * import { createRuntime } from "../runtime.ts";
 * // A tiny torchvision ResNet-18 (random weights, 64×64 input, 10 classes).
 * const engine = await loadOnnxEngine("tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const labels = Array.from({ length: 10 }, (_, i) => `class_${i}`);
 * const runtime = createRuntime(engine, { name: "resnet18", labels, preprocessing: "torch" });
 * const pass = await runtime.run(new Float32Array(64 * 64 * 3), { layer: "layer4", gradients: true });
 * assert.equal(pass.probabilities.length, 10);
 * runtime.dispose();
 * ```
 *
 * @module
 */
export {
  exportTfjsModel,
  loadOnnxEngine,
  type OnnxEngineSource,
  readOnnxClassifier,
} from "./load.ts";
export { onnxEngine, type OnnxEngineOptions } from "./engine.ts";
export { EXPORT_OPSET, exportedModelBytes } from "./export_tfjs.ts";
export type { OnnxSource } from "./source.ts";
export { loadOrt, openSessions, sessionOptions } from "./session.ts";
export { UnsupportedOpError } from "./backward.ts";
