// ONNX Runtime yardstick (Node.js): times the ResNet-50 forward pass on the
// same weights, exported by ../shared/peer/export_onnx.py.
// Usage: node onnx_peer.mjs MODEL.onnx INPUT.f32 RUNS WARMUP THREADS
// INPUT.f32 holds the preprocessed image, NCHW float32. Prints one JSON line.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const [model, inputPath, runs, warmup, threads] = process.argv.slice(2);
const require = createRequire(new URL("./", `file://${process.cwd()}/`));
const ort = require("onnxruntime-node");
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: Number(threads),
  interOpNumThreads: 1,
  executionProviders: ["cpu"],
});
const bytes = readFileSync(inputPath);
const data = new Float32Array(
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
);
const input = new ort.Tensor("float32", data, [1, 3, 224, 224]);
const run = () => session.run({ input });
for (let i = 0; i < Number(warmup); i++) await run();
const samples = [];
let top = -1;
for (let i = 0; i < Number(runs); i++) {
  const t = performance.now();
  const out = await run();
  samples.push(performance.now() - t);
  const logits = out.logits.data;
  top = logits.indexOf(Math.max(...logits));
}
console.log(
  JSON.stringify({ samples, top, version: ort.env.versions?.common }),
);
