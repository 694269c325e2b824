/**
 * Renders the README's example overlays of tests/fixtures/chelsea.png into
 * docs/, one per built-in method, with the same code the API uses.
 *
 * Run: deno run --allow-read --allow-write=docs --allow-env tools/render_docs.ts
 *
 * @module
 */
import { analyzeImage } from "../explainers/analysis.ts";
import { createRegistry } from "../explainers/registry.ts";
import { decodeImage } from "../lib/image.ts";
import { encodePng, renderExplanationRgb } from "../lib/render.ts";
import { loadModel, shutdownBackend } from "../models/mod.ts";

const runtime = await loadModel({ backend: "wasm" });
const registry = createRegistry();
const image = await decodeImage(
  await Deno.readFile(
    new URL("../tests/fixtures/chelsea.png", import.meta.url),
  ),
);
const analysis = await analyzeImage(runtime, registry, image, {
  methods: ["activation", "gradcam"],
});
console.log(analysis.top(3));
for (const method of ["activation", "gradcam"]) {
  const { heatmap } = await analysis.explain(method);
  const rgb = renderExplanationRgb(
    image,
    heatmap.values,
    heatmap.width,
    heatmap.height,
  );
  const path = new URL(`../docs/chelsea_${method}.png`, import.meta.url);
  await Deno.writeFile(
    path,
    await encodePng(image.width, image.height, rgb.overlay),
  );
  console.log(`wrote ${path.pathname}`);
}
// WASM threads keep the process alive until the backend is removed.
shutdownBackend();
