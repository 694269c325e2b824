/**
 * Renders docs/gallery.png (every registered method on
 * tests/fixtures/chelsea.png, default options, ResNet-50 at its default
 * layer) and docs/METHODS.md (what each method does, its cost in passes and
 * the time it took here), with the same code the API uses.
 *
 * Run: deno run --allow-read --allow-write=docs --allow-env tools/render_gallery.ts
 * [--runs=N] — each method is timed N times (default 1) and the fastest
 * run is reported, which is the least disturbed by other work on the machine.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { checkExplain, explainImage } from "../explain/mod.ts";
import { createRegistry } from "../explainers/registry.ts";
import { decodeImage } from "../lib/image.ts";
import { encodePng, renderExplanationRgb } from "../lib/render.ts";
import { resizeRgb } from "../lib/resize.ts";
import { loadModel, shutdownBackend } from "../models/mod.ts";
import { drawText } from "./_bitmap_font.ts";

/** Model passes beyond the shared one, at the default options. */
const COST: Record<string, string> = {
  activation: "1 forward",
  gradcam: "1 forward + 1 backward (shared)",
  "gradcam++": "1 forward + 1 backward (shared)",
  hirescam: "1 forward + 1 backward (shared)",
  xgradcam: "1 forward + 1 backward (shared)",
  layercam: "1 forward + 1 backward (shared)",
  eigencam: "1 forward",
  eigengradcam: "1 forward + 1 backward (shared)",
  scorecam: "1 forward + `topChannels` (64) forwards, batched by 16",
  ablationcam:
    "1 forward + `topChannels` (64) passes above the layer, batched by 16",
  saliency: "1 forward + 1 backward to the input",
  smoothgrad: "1 forward + `samples` (16) backwards to the input, batched by 8",
  integratedgradients:
    "1 forward + `steps` (32) backwards to the input, batched by 8, + 1 forward",
  occlusion:
    "1 forward + one forward per patch position (13×13 = 169), batched by 16",
};

const runtime = await loadModel({ backend: "wasm" });
const registry = createRegistry();
const image = await decodeImage(
  await Deno.readFile(
    new URL("../tests/fixtures/chelsea.png", import.meta.url),
  ),
);
const request = checkExplain({ model: runtime, registry }, {
  methods: registry.names,
  outputs: { maps: true, overlay: false, heatmap: false },
}, { maxMethods: registry.names.length });

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "1" } },
});
const runs = Math.max(1, Number(flags.runs) || 1);

// Each method's own work, after the shared pass (timed separately); the
// fastest of `runs` runs, each on a fresh analysis.
const fastest = new Map<string, number>();
const results = [];
let sharedMs = Infinity;
for (let run = 0; run < runs; run++) {
  runtime.cache.clear();
  const outcome = await explainImage(
    { runtime, registry, maxPixels: 40_000_000 },
    { ...request, image },
  );
  sharedMs = Math.min(sharedMs, outcome.analysis.forwardMs);
  for (const { method, map } of outcome.methods) {
    const result = map!;
    fastest.set(
      method,
      Math.min(fastest.get(method) ?? Infinity, result.explainMs),
    );
    if (run === 0) results.push(result);
    console.log(
      `run ${run + 1}: ${method}: ${Math.round(result.explainMs)} ms`,
    );
  }
}

// The grid: the photo, then one overlay per method, labelled.
const tileWidth = 300;
const tileHeight = Math.round(image.height * tileWidth / image.width);
const label = 22;
const gap = 4;
const columns = 5;
const tiles = [{ name: "chelsea.png", overlay: null as Uint8Array | null }];
const small = resizeRgb(image, { width: tileWidth, height: tileHeight });
for (const { method, heatmap } of results) {
  const rgb = renderExplanationRgb(small, heatmap, { alpha: 0.5 });
  tiles.push({ name: method, overlay: rgb.overlay });
}
const rows = Math.ceil(tiles.length / columns);
const width = columns * tileWidth + (columns + 1) * gap;
const height = rows * (tileHeight + label) + (rows + 1) * gap;
const canvas = new Uint8Array(width * height * 3).fill(24);
tiles.forEach(({ name, overlay }, i) => {
  const left = gap + (i % columns) * (tileWidth + gap);
  const top = gap + Math.floor(i / columns) * (tileHeight + label + gap);
  drawText(canvas, width, name, left + 2, top + 2, { scale: 2 });
  const pixels = overlay ?? small.data;
  for (let y = 0; y < tileHeight; y++) {
    const from = y * tileWidth * 3;
    canvas.set(
      pixels.subarray(from, from + tileWidth * 3),
      ((top + label + y) * width + left) * 3,
    );
  }
});
const gallery = new URL("../docs/gallery.png", import.meta.url);
await Deno.writeFile(gallery, await encodePng({ width, height, data: canvas }));
console.log(`wrote ${gallery.pathname}`);

const lines = [
  "# Explanation methods",
  "",
  "Every method on `chelsea.png`: [docs/gallery.png](gallery.png). Costs are",
  "model passes at the default options; times are this machine's, measured by",
  "`tools/render_gallery.ts` on ResNet-50 with the TF.js WASM backend " +
  `(${runtime.backend.threads} threads, ${navigator.hardwareConcurrency} cores),`,
  `fastest of ${runs} run${runs === 1 ? "" : "s"}, after the shared pass`,
  `(forward + backward at layer4: ${Math.round(sharedMs)} ms).`,
  "",
  "| method | what it does | cost (passes) | ms after the shared pass |",
  "| --- | --- | --- | ---: |",
  ...registry.list().map((e) => {
    const cell = (text: string) => text.replaceAll("|", "\\|");
    return `| \`${e.name}\` | ${cell(e.description)} | ${
      COST[e.name] ?? "?"
    } | ${Math.round(fastest.get(e.name)!)} |`;
  }),
  "",
  "Options (all optional): `scorecam` and `ablationcam` take `topChannels`",
  "(64; 0 = all) and `batchSize` (16); `smoothgrad` takes `samples` (16),",
  "`sigma` (0.15 × the preprocessed input's range), `seed` (0), `batchSize` (8);",
  "`integratedgradients` takes `steps` (32) and `batchSize` (8) and reports",
  "`details.completenessError`; `occlusion` takes `size` (32 px at 224),",
  "`stride` (16 px), `fill` (0 in the preprocessed space: the mean colour) and",
  "`batchSize` (16). Score-CAM masks and occlusion fills act on the",
  "preprocessed input. Pixel methods give 224×224 maps, occlusion its 13×13",
  "patch grid, the others the layer's grid (7×7 at layer4).",
  "",
  "## Faithfulness and sanity",
  "",
  "- `faithfulness(runtime, { input, classIndex, map })`",
  "  (`explainers/faithfulness.ts`): pixels ranked by the map (upsampled to",
  "  the input), n_s = round(s·N/20). Deletion curve: p(class) with the top n_s",
  "  pixels replaced by the baseline (blurred input, or the mean colour);",
  "  insertion curve: the baseline with the top n_s pixels restored. AUC by the",
  "  trapezoid rule over [0, 1]: low deletion and high insertion are faithful.",
  "  `keepTopDrop` = max(0, p(x) − p(top 20 % kept)) / p(x). At most 41",
  "  forwards, batched.",
  "- `sanityCheck({ trained, randomized, registry }, { image, method, layer })`",
  "  (`explainers/sanity.ts`): Spearman ρ between the method's map on the",
  "  trained model and on the model whose last residual block and classifier",
  "  kernels are noise (`randomizedRuntime`, loaded once per process); lower is",
  "  better. Grad-CAM on chelsea.png: ρ < 0.5; the `centerbias` example",
  "  plugin gives ρ = 1, as a model-free baseline must.",
  "",
];
const methods = new URL("../docs/METHODS.md", import.meta.url);
await Deno.writeTextFile(methods, lines.join("\n"));
console.log(`wrote ${methods.pathname}`);
shutdownBackend();
