/** The engine conformance suite on TF.js (WASM and CPU), the same checks as ONNX Runtime's. */
import { loadTfjsEngine } from "../../../models/tfjs/engine.ts";
import { selectBackend } from "../../../models/tfjs/backend.ts";
import { inMemoryHandler, tinyResNet } from "../../_shared.ts";
import { engineConformance } from "../_engine_conformance.ts";

const random = (seed: number) => {
  let x = seed * 2654435761 >>> 0;
  return () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x >>> 8) / 2 ** 24 * 2 - 1;
  };
};

for (const backend of ["wasm", "cpu"] as const) {
  engineConformance(`tfjs engine conformance on ${backend}: the tiny ResNet`, {
    make: async () => {
      await selectBackend(backend);
      const model = tinyResNet({ size: 24 });
      const handler = await inMemoryHandler(model);
      model.dispose();
      return await loadTfjsEngine({ model: handler, backend, threads: 1 });
    },
    inputs: () =>
      [1, 2].map((seed) =>
        Float32Array.from({ length: 24 * 24 * 3 }, random(seed))
      ),
    // The block's first ReLU: the projection shortcut skips past it.
    innerLayer: "b_relu1",
    finiteDifferences: true,
  });
}
