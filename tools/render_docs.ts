/**
 * Renders the README's example overlays of tests/fixtures/chelsea.png into
 * docs/, one per built-in method, through the explanation core the API
 * uses.
 *
 * Run: deno run --allow-read --allow-write=docs --allow-env tools/render_docs.ts
 *
 * @module
 */
import { checkExplain, explainImage } from "../explain/mod.ts";
import { createRegistry } from "../explainers/registry.ts";
import { loadModel, shutdownBackend } from "../models/mod.ts";

const runtime = await loadModel({ backend: "wasm" });
const registry = createRegistry();
const request = checkExplain({ model: runtime, registry }, {
  methods: ["activation", "gradcam"],
  outputs: { maps: true, overlay: true, heatmap: false },
}, { maxMethods: 2 });
const outcome = await explainImage(
  { runtime, registry, maxPixels: 40_000_000 },
  {
    ...request,
    image: await Deno.readFile(
      new URL("../tests/fixtures/chelsea.png", import.meta.url),
    ),
  },
);
console.log(outcome.analysis.predictions.slice(0, 3));
for (const { method, rendering } of outcome.methods) {
  const path = new URL(`../docs/chelsea_${method}.png`, import.meta.url);
  await Deno.writeFile(path, rendering!.overlay!);
  console.log(`wrote ${path.pathname}`);
}
// WASM threads keep the process alive until the backend is removed.
shutdownBackend();
