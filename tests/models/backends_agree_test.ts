import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { shutdownBackend } from "../../models/mod.ts";
import { type BackendName } from "../../models/tfjs/backend.ts";
import { isCi } from "../_ci.ts";
import { tinyRuntime } from "../_shared.ts";

function assertClose(a: Float32Array, b: Float32Array, tolerance: number) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(1, Math.abs(a[i]), Math.abs(b[i]));
    assert.ok(
      Math.abs(a[i] - b[i]) <= tolerance * scale,
      `index ${i}: ${a[i]} vs ${b[i]}`,
    );
  }
}

/** The logits and gradients of one pass of the tiny network on `backend`. */
async function passOn(backend: BackendName) {
  const input = new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i * 0.37));
  const runtime = await tinyRuntime(backend);
  try {
    assert.equal(runtime.backend.name, backend);
    assert.equal(tf.getBackend(), backend);
    const pass = await runtime.run(input, {
      layer: "b_relu2",
      gradients: true,
    });
    return { logits: pass.logits, grads: pass.gradients!.data };
  } finally {
    runtime.dispose();
  }
}

// webgpu is forced: CI has only lavapipe, a software adapter that "auto"
// skips. Without any adapter (no mesa-vulkan-drivers) the WebGPU test is
// ignored, and reported as such, except in CI, which must have one.
const adapter = await (navigator as { gpu?: GPU }).gpu?.requestAdapter() ??
  null;

Deno.test("CI has a WebGPU adapter (install mesa-vulkan-drivers)", {
  ignore: !isCi(),
}, () => {
  assert.ok(adapter, "CI needs a WebGPU adapter: install mesa-vulkan-drivers");
});

Deno.test({
  name:
    "the tiny network gives the same logits and gradients on webgpu as on wasm",
  ignore: adapter === null,
  async fn() {
    const wasm = await passOn("wasm");
    const webgpu = await passOn("webgpu");
    assertClose(webgpu.logits, wasm.logits, 1e-4);
    assertClose(webgpu.grads, wasm.grads, 1e-4);
  },
});

Deno.test("the tiny network gives the same logits and gradients on wasm and cpu", async () => {
  const wasm = await passOn("wasm");
  const cpu = await passOn("cpu");
  // Last in this file: release the WebGPU device and the WASM threads before
  // the module ends rather than leaving them to process teardown (a released
  // WASM backend does not come back).
  shutdownBackend();
  assertClose(cpu.logits, wasm.logits, 1e-4);
  assertClose(cpu.grads, wasm.grads, 1e-4);
});
