/**
 * Where model work runs: the explanation service (admission by cost, the
 * scheduler's lanes) over an executor — in this process for the CLI, tools
 * and tests, in supervised worker processes for the server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkExplain } from "../explain/mod.ts";
 * import { createRegistry } from "../explainers/mod.ts";
 * import { createModelSet, loadModel } from "../models/mod.ts";
 * import { createLocalService, modelView } from "./mod.ts";
 * // A tiny ONNX ResNet-18 (random weights, 64×64 input) as the model.
 * const models = createModelSet([{
 *   name: "resnet18",
 *   load: () => loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 }),
 * }]);
 * const registry = createRegistry();
 * const service = createLocalService({ models, registry });
 * const model = modelView(await service.ready());
 * const checked = checkExplain({ model, registry }, { methods: ["gradcam"] }, { maxMethods: 16 });
 * const bytes = await Deno.readFile("tests/fixtures/chelsea.png");
 * const outcome = await service.explain({ ...checked, image: bytes });
 * assert.equal(outcome.methods[0]?.map?.heatmap.width, 2); // layer4 of a 64×64 input
 * await service.close();
 * ```
 *
 * @module
 */
export * from "./service.ts";
export * from "./scheduler.ts";
export * from "./calls.ts";
export * from "./dispatch.ts";
export * from "./local.ts";
export * from "./pool.ts";
export * from "./priority.ts";
export * from "./protocol.ts";
