/**
 * The model runtime: engines (TF.js on WebGPU, WASM or CPU), the layer
 * catalog, the runtime explainers share and model loading. Tensors never
 * leave this folder; everything exported works on plain arrays.
 *
 * @example
 * ```ts
 * import { loadModel } from "./models/mod.ts";
 * const runtime = await loadModel({ backend: "auto" });
 * const pass = await runtime.run(runtime.prepare(image), { layer: "layer4" });
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
