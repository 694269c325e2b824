/**
 * The explanation methods: the `Explainer` contract, the 14 built-in
 * methods in one registry, the one shared pass per image (`analysis.ts`),
 * evaluation tools (faithfulness, the sanity check) and plugin loading.
 *
 * @example
 * ```ts ignore
 * // `runtime`: a loaded model (loadModel)
 * import { analyzeImage, createRegistry } from "./mod.ts";
 * const analysis = await analyzeImage({ runtime, registry: createRegistry() }, image, { methods: ["gradcam"] });
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./registry.ts";
export * from "./analysis.ts";
export * from "./cam.ts";
export * from "./plugins.ts";
export * from "./evaluation/faithfulness.ts";
export * from "./evaluation/sanity.ts";
export { spearman } from "./_maths.ts";
