/**
 * Prints Grad-CAM and activation maps of chelsea.png at two layers, with the
 * WASM thread count given as the first argument. Run by wasm_threads_test.ts
 * in a fresh process per thread count (the WASM module starts once).
 */
import * as tf from "@tensorflow/tfjs-core";
import { analyzeImage } from "../../explainers/analysis.ts";
import { createRegistry } from "../../explainers/registry.ts";
import { loadModel } from "../../models/mod.ts";
import { fixtureImage } from "../_shared.ts";

const runtime = await loadModel({
  backend: "wasm",
  threads: Number(Deno.args[0]),
  warmUp: false,
});
const image = await fixtureImage("chelsea.png");
const maps: Record<string, number[]> = {};
for (const layer of ["layer4", "layer3"]) {
  const analysis = await analyzeImage(
    { runtime, registry: createRegistry() },
    image,
    {
      methods: ["gradcam", "activation"],
      layer,
    },
  );
  for (const method of ["gradcam", "activation"]) {
    maps[`${layer}/${method}`] = [
      ...(await analysis.explain(method)).heatmap.values,
    ];
  }
}
console.log(JSON.stringify({ threads: runtime.backend.threads, maps }));
tf.removeBackend("wasm");
