/** Every registered method gives the same map on ONNX Runtime as on TF.js (tiny ResNet). */
import assert from "node:assert/strict";
import { builtinExplainers } from "../../../explainers/registry.ts";
import { loadOnnxEngine } from "../../../models/onnx/load.ts";
import { createRuntime } from "../../../models/runtime.ts";
import { selectBackend } from "../../../models/tfjs/backend.ts";
import { loadTfjsEngine } from "../../../models/tfjs/engine.ts";
import { inMemoryHandler, tinyResNet } from "../../_shared.ts";
import { maxRelative } from "./_onnx_fixtures.ts";

Deno.test({
  name:
    "every method's map on onnxruntime equals TF.js' (1e-4 of the map's maximum)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await selectBackend("cpu");
    const model = tinyResNet({ size: 32 });
    const handler = await inMemoryHandler(model);
    model.dispose();
    const labels = Array.from({ length: 10 }, (_, i) => `class_${i}`);
    const options = { name: "tiny", labels, preprocessing: "tf" as const };
    const runtimes = [
      createRuntime(
        await loadTfjsEngine({ model: handler, backend: "cpu" }),
        options,
      ),
      createRuntime(await loadOnnxEngine(handler, { threads: 1 }), options),
    ];
    try {
      const input = Float32Array.from(
        { length: 32 * 32 * 3 },
        (_, i) => Math.sin(i * 0.37),
      );
      for (const explainer of builtinExplainers()) {
        const [tfjs, onnx] = await Promise.all(runtimes.map(async (runtime) => {
          const pass = await runtime.run(input, {
            layer: "b_out",
            gradients: explainer.needsGradients,
          });
          return await explainer.explain(
            { runtime, pass, input },
            explainer.parseParams({}),
          );
        }));
        const d = maxRelative(onnx.values, tfjs.values);
        assert.ok(d < 1e-4, `${explainer.name}: maps differ by ${d}`);
      }
    } finally {
      for (const r of runtimes) r.dispose();
    }
  },
});
