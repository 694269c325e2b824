/**
 * A child process of `session_test.ts`: runs the tiny ResNet-18 on Lumen's
 * session options (`arena`) or on them with ONNX Runtime's memory arena off
 * (`no-arena`), and prints the page faults of one run once warm. Started with
 * glibc's mmap threshold pinned low, so that every buffer ONNX Runtime frees
 * goes back to the system at once, as it does in a lean worker heap.
 */
import process from "node:process";
import { loadOrt, sessionOptions } from "../../../models/onnx/session.ts";

const ort = await loadOrt();
const options = sessionOptions({ threads: 1 });
if (Deno.args[0] === "no-arena") options.enableCpuMemArena = false;
const session = await ort.InferenceSession.create(
  await Deno.readFile("tests/fixtures/onnx/resnet18.onnx"),
  options,
);
const x = new ort.Tensor("float32", new Float32Array(64 * 64 * 3), [
  1,
  3,
  64,
  64,
]);
const run = async () => {
  const out = await session.run({ input: x });
  Object.values(out).forEach((t) => t.dispose());
};
for (let i = 0; i < 5; i++) await run();
const before = process.resourceUsage().minorPageFault;
for (let i = 0; i < 20; i++) await run();
console.log((process.resourceUsage().minorPageFault - before) / 20);
await session.release();
