/**
 * The mutations `tools/mutate.ts` runs: each breaks one promised behaviour
 * in a scratch copy, and names the test file that must then fail. Patterns
 * are exact text that must occur once (see `apply.ts`), so a mutation whose
 * code moved fails loudly instead of testing nothing.
 *
 * @module
 */
import type { Mutation } from "./apply.ts";

/**
 * Every mutation, in the order they run.
 *
 * @example
 * ```ts
 * MUTATIONS.find((m) => m.name === "scheduler-refuses-all")!.tests; // ["tests/server/load_test.ts"]
 * ```
 */
export const MUTATIONS: readonly Mutation[] = [
  {
    name: "scheduler-refuses-all",
    claim:
      "Work within the queue bound is admitted, not refused with OVERLOADED",
    file: "workers/scheduler.ts",
    from: "if (!free && waiting[lane].length >= maxQueued) {",
    to: "if (free || !free) {",
    tests: ["tests/server/load_test.ts"],
  },
  {
    name: "pass-cache-fifo",
    claim: "The pass cache evicts the least recently used state",
    file: "models/pass_cache.ts",
    from:
      "      stats.hits++;\n      entries.delete(key);\n      entries.set(key, state);\n",
    to: "      stats.hits++;\n",
    tests: ["tests/models/pass_cache_test.ts"],
  },
  {
    name: "pass-cache-no-byte-cap",
    claim: "The pass cache holds at most its byte budget",
    file: "models/pass_cache.ts",
    from: "(entries.size > maxEntries || bytes > maxBytes)",
    to: "(entries.size > maxEntries)",
    tests: ["tests/models/pass_cache_test.ts"],
  },
  {
    name: "pass-cache-default-256mib",
    claim: "The pass cache's default byte budget is 128 MiB",
    file: "models/pass_cache.ts",
    from: "options.maxBytes ?? 128 * 1024 * 1024",
    to: "options.maxBytes ?? 256 * 1024 * 1024",
    tests: ["tests/models/pass_cache_test.ts"],
  },
  {
    name: "shutdown-keeps-idle-connections",
    claim: "Shutdown closes idle keep-alive connections at once",
    file: "server/serve.ts",
    from: "if (count === 0) socket.destroy();",
    to: "if (count < 0) socket.destroy();",
    tests: ["tests/server/serve_test.ts"],
  },
  {
    name: "upload-read-before-size-check",
    claim: "An oversized upload is refused from its size, before it is read",
    file: "schema/image_input.ts",
    from: "      if (source.file.size > options.maxBytes) {\n" +
      "        tooLarge(source.file.size, options.maxBytes);\n" +
      "      }\n" +
      "      return new Uint8Array(await source.file.arrayBuffer());",
    to:
      "      const read = new Uint8Array(await source.file.arrayBuffer());\n" +
      "      if (read.length > options.maxBytes) {\n" +
      "        tooLarge(read.length, options.maxBytes);\n" +
      "      }\n" +
      "      return read;",
    tests: ["tests/schema/image_input_test.ts"],
  },
  {
    name: "explain-computes-unselected-maps",
    claim: "A method's map is not computed when no selected field needs it",
    file: "explain/explain_image.ts",
    from: "if (!outputs.maps && !rendered) {",
    to: "if (!outputs.maps && !rendered && methods.length < 0) {",
    // Over GraphQL the request's scope ends with the answer, which stops
    // this work anyway: the core is where the short cut shows.
    tests: ["tests/explain/explain_image_test.ts"],
  },
  {
    name: "schema-selects-maps-always",
    claim: "A method's map is not computed when no selected field needs it",
    file: "schema/explanation.ts",
    from: "maps: computeMaps || selectsAnywhere(info, MAP_FIELDS, at),",
    to: "maps: true,",
    tests: ["tests/schema/selection_test.ts"],
  },
  {
    name: "api-default-alpha",
    claim: "The API's overlays blend at α 0.3 by default",
    file: "explain/request.ts",
    from: "const alpha = render?.alpha ?? 0.3;",
    to: "const alpha = render?.alpha ?? 0.35;",
    tests: ["tests/schema/overlay_test.ts"],
  },
  {
    name: "api-default-colormap",
    claim: "The API's overlays use jet by default",
    file: "explain/request.ts",
    from: 'const colormap = render?.colormap ?? "jet";',
    to: 'const colormap = render?.colormap ?? "turbo";',
    tests: ["tests/schema/overlay_test.ts"],
  },
  {
    name: "schema-default-alpha",
    claim: "The API's overlays blend at α 0.3 by default (render: {})",
    file: "schema/schema.graphql",
    from: "alpha: Float = 0.3",
    to: "alpha: Float = 0.35",
    tests: ["tests/schema/overlay_test.ts"],
  },
  {
    name: "schema-default-colormap",
    claim: "The API's overlays use jet by default (render: {})",
    file: "schema/schema.graphql",
    from: 'colormap: String = "jet"',
    to: 'colormap: String = "turbo"',
    tests: ["tests/schema/overlay_test.ts"],
  },
  {
    name: "ig-path-stops-short",
    claim:
      "Integrated gradients follow the whole path: the completeness error shrinks as steps grows",
    file: "explainers/integrated_gradients.ts",
    from: "const alpha = (i + 0.5) / steps;",
    to: "const alpha = ((i + 0.5) / steps) * 0.97;",
    tests: ["tests/explainers/integrated_gradients_test.ts"],
  },
  {
    name: "onnx-gradient-below-layer",
    claim:
      "The gradient never backpropagates below the requested layer (ONNX Runtime)",
    file: "models/onnx/split.ts",
    from: "    if (downstream.has(n)) {",
    to: "    if (downstream.has(n) || n.outputs.length > 0) {",
    tests: ["tests/models/onnx/split_test.ts"],
  },
  {
    name: "sigint-ignored",
    claim: "SIGINT shuts down gracefully and exits 0, as SIGTERM does",
    file: "main.ts",
    from: 'for (const signal of ["SIGINT", "SIGTERM"] as const) {',
    to: 'for (const signal of ["SIGTERM"] as const) {',
    tests: ["tests/main_test.ts"],
  },
  {
    name: "second-signal-waits",
    claim: "A second signal exits 1 at once",
    file: "main.ts",
    from:
      'return exitNow("second signal: exiting without waiting", { signal });',
    to: "return;",
    tests: ["tests/main_test.ts"],
  },
  {
    name: "no-exit-watchdog",
    claim:
      "A shutdown still running after the grace period and the watchdog exits 1",
    file: "main.ts",
    from: "Deno.unrefTimer(watchdog);",
    to: "Deno.unrefTimer(watchdog);\n    clearTimeout(watchdog);",
    tests: ["tests/main_test.ts"],
  },
  {
    name: "caffe-means-rgb-order",
    claim: "chelsea.png is an Egyptian cat with p 0.931 (README, PyTorch peer)",
    file: "lib/preprocess.ts",
    from: "const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68];",
    to: "const CAFFE_BGR_MEAN = [123.68, 116.779, 103.939];",
    tests: ["tests/models/runtime_test.ts"],
  },
  {
    name: "resize-corner-aligned",
    claim: "chelsea.png is an Egyptian cat with p 0.931 (README, PyTorch peer)",
    file: "lib/resize.ts",
    from: "const f = (i + 0.5) * scale - 0.5;",
    to: "const f = i * scale;",
    tests: ["tests/models/runtime_test.ts"],
  },
  {
    name: "batch-mixes-class-choices",
    claim:
      "Concurrent passes for different class choices are not batched together",
    file: "models/runtime.ts",
    from:
      '}|${request.gradients}|${\n            request.classIndex ?? "top"\n          }`;',
    to: "}|${request.gradients}`;",
    tests: ["tests/models/batching_test.ts"],
  },
  {
    name: "batch-mixes-layers",
    claim: "Concurrent passes at different layers are not batched together",
    file: "models/runtime.ts",
    from: 'const group = `${request.key.split("|")[0]}|',
    to: "const group = `|",
    tests: ["tests/models/batching_test.ts"],
  },
  {
    name: "gradcam-relu-on-weights",
    claim:
      "Grad-CAM's channel weights are the mean gradients, negative ones included (ReLU after the sum)",
    file: "explainers/grad_cam.ts",
    from: "weights: (_a, g) => channelMeans(g!),",
    to: "weights: (_a, g) => channelMeans(g!).map((w) => Math.max(0, w)),",
    tests: [
      "tests/explainers/activation_test.ts",
      "tests/explainers/grad_cam_test.ts",
    ],
  },
  {
    name: "colormap-scale-254",
    claim: "A map value v is coloured by table entry round(255·v)",
    file: "lib/colormap.ts",
    from: "const q = Math.round(value * 255);",
    to: "const q = Math.round(value * 254);",
    tests: ["tests/lib/render_test.ts"],
  },
  {
    name: "sub-rows-scale-254",
    claim:
      "The server's fused PNG rows colour a map value as colormapLevel does, round(255·v)",
    file: "lib/_sub_rows.ts",
    from: "const q = Math.round(line[x] * 255);",
    to: "const q = Math.round(line[x] * 254);",
    tests: ["tests/lib/render_test.ts"],
  },
];
