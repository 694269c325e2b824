/**
 * Peak resident memory with the shipped ResNet-50's weights loaded and
 * warmed up, on TF.js WASM, on onnxruntime, and on both in one process
 * (in either order: the export to ONNX loads the TF.js model on the active
 * TF.js backend, and the WASM heap never shrinks): each in its own child
 * process (`memory_child.ts`), read from /proc.
 *
 * @module
 */
import { DEFAULT_WEIGHTS_CACHE } from "../../models/mod.ts";
import { DENO, processMemory } from "./system.ts";
import { workerTunables } from "../../workers/_spawn.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FFI =
  "node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/bin/";

/** The child processes measured, by figure id. */
export const MEMORY_CASES: Readonly<Record<string, string>> = {
  "memory.wasm": "wasm",
  "memory.ort": "onnxruntime",
  "memory.both": "wasm,onnxruntime",
  "memory.both-ort-first": "onnxruntime,wasm",
};

/**
 * Peak RSS (VmHWM), MB, of a child that loads `engines` and waits.
 *
 * @example
 * ```ts
 * const mb = await childPeakRss("wasm,onnxruntime", { threads: 2 });
 * ```
 */
export async function childPeakRss(
  engines: string,
  options: { threads: number },
): Promise<number> {
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      `--allow-write=${DEFAULT_WEIGHTS_CACHE}`,
      "--allow-env",
      `--allow-ffi=${FFI}`,
      "tools/bench/memory_child.ts",
      engines,
      String(options.threads),
    ],
    cwd: ROOT,
    // As the pool starts its model workers.
    env: { GLIBC_TUNABLES: workerTunables(Deno.env.get("GLIBC_TUNABLES")) },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while (!text.includes("ready\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    reader.releaseLock();
    if (!text.includes("ready\n")) {
      const err = await new Response(child.stderr).text();
      throw new Error(`Memory child (${engines}) failed: ${err.slice(-300)}`);
    }
    const memory = await processMemory(child.pid);
    if (!memory) throw new Error("Cannot read the child's /proc status");
    return memory.peakMb;
  } finally {
    await stdin.close().catch(() => {});
    const status = await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    if (!status.success) {
      console.error(`[bench] memory child ${engines}: ${status.code}`);
    }
  }
}
