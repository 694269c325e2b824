/**
 * A child process of the memory figure: loads the shipped ResNet-50 on each
 * engine named in its argument, in order (`wasm`, `onnxruntime`, or
 * `wasm,onnxruntime`), each warmed up (a pass and a gradient pass), then
 * prints `ready` and waits for its stdin to close, so that the parent can
 * read its peak resident memory from /proc.
 *
 * ```sh
 * deno run --allow-read --allow-write=node_modules/.cache/lumen --allow-env --allow-ffi=… tools/bench/memory_child.ts wasm,onnxruntime 2
 * ```
 *
 * @module
 */
import {
  DEFAULT_WEIGHTS_CACHE,
  loadModel,
  type ModelRuntime,
  shutdownBackend,
} from "../../models/mod.ts";

const [engines = "wasm", threads = "1"] = Deno.args;
const runtimes: ModelRuntime[] = [];
for (const backend of engines.split(",")) {
  if (backend !== "wasm" && backend !== "onnxruntime") {
    throw new Error(
      `Unknown engine "${backend}": valid are "wasm", "onnxruntime"`,
    );
  }
  // As a server's workers load it: ONNX Runtime's weights in the cache.
  const runtime = await loadModel({
    backend,
    threads: Number(threads),
    weightsFolder: DEFAULT_WEIGHTS_CACHE,
    log: (message) => console.error(message),
  });
  if (runtime.backend.name !== backend) {
    throw new Error(`Asked for ${backend}, got ${runtime.backend.name}`);
  }
  runtimes.push(runtime);
}
console.log("ready");
// Holds the weights until the parent has read /proc.
for await (const _ of Deno.stdin.readable) { /* until closed */ }
for (const runtime of runtimes) runtime.dispose();
shutdownBackend();
