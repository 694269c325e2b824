/**
 * The explanation core, with no GraphQL and no HTTP in it: validation of a
 * request (`checkExplain`), its cost (`explainCost`), and the use cases —
 * explain an image (`explainImage`), predict (`predictImage`), score a
 * map's faithfulness, run the sanity check. The API, the CLI, jobs, the
 * bench and the doc tools all go through here.
 *
 * @example
 * ```ts ignore
 * // `runtime`: a loaded model (loadModel); `registry`: createRegistry()
 * import { checkExplain, explainImage } from "./mod.ts";
 * const checked = checkExplain({ model: runtime, registry }, { methods: ["gradcam"] }, { maxMethods: 16 });
 * const outcome = await explainImage({ runtime, registry, maxPixels }, { ...checked, image });
 * ```
 *
 * @module
 */
export * from "./request.ts";
export * from "./cost.ts";
export * from "./explain_image.ts";
export * from "./evaluate.ts";
