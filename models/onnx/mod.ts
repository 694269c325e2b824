/**
 * The ONNX Runtime engine: TF.js layers models exported to ONNX at load
 * time, and users' `.onnx` classifiers, run by native ONNX Runtime behind
 * the same `Engine` contract (`../engine.ts`) as TF.js, gradients included (a
 * backward graph written out as ONNX nodes).
 *
 * @example
 * ```ts
 * import { loadOnnxEngine } from "./models/onnx/mod.ts";
 * const engine = await loadOnnxEngine("resnet18.onnx", { threads: 2 });
 * const runtime = createRuntime(engine, { name: "resnet18", labels, preprocessing: "torch" });
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
