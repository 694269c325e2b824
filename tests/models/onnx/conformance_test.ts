/** The engine conformance suite on ONNX Runtime: an exported TF.js model and a torchvision export. */
import { loadOnnxEngine } from "../../../models/onnx/load.ts";
import { selectBackend } from "../../../models/tfjs/backend.ts";
import { inMemoryHandler, tinyResNet } from "../../_shared.ts";
import { engineConformance } from "../_engine_conformance.ts";
import {
  fixtureEngine,
  fixtureInfo,
  fixtureInput,
  random,
} from "./_onnx_fixtures.ts";

engineConformance(
  "onnxruntime engine conformance: the tiny ResNet exported from TF.js",
  {
    make: async () => {
      await selectBackend("cpu");
      const model = tinyResNet({ size: 24 });
      const handler = await inMemoryHandler(model);
      model.dispose();
      return await loadOnnxEngine(handler, { threads: 1 });
    },
    inputs: () =>
      [1, 2].map((seed) =>
        Float32Array.from({ length: 24 * 24 * 3 }, random(seed))
      ),
    // The block's first ReLU: the projection shortcut skips past it.
    innerLayer: "b_relu1",
    finiteDifferences: true,
  },
);

engineConformance(
  "onnxruntime engine conformance: torchvision resnet18 (ONNX file)",
  {
    make: () => fixtureEngine("resnet18"),
    inputs: async () => {
      const info = await fixtureInfo("resnet18");
      return [fixtureInput(info), fixtureInput(info, 1)];
    },
    innerLayer: "/layer3/layer3.0/relu/Relu_output_0",
  },
);
