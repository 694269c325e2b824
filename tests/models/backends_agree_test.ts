import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { shutdownBackend } from "../../models/mod.ts";
import { type BackendName } from "../../models/tfjs/backend.ts";
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

Deno.test("the tiny network gives the same logits and gradients on wasm, cpu and webgpu", async () => {
  const input = new Float32Array(32 * 32 * 3).map((_, i) => Math.sin(i * 0.37));
  const results = new Map<
    BackendName,
    { logits: Float32Array; grads: Float32Array }
  >();
  // webgpu is forced: CI has only lavapipe, a software adapter that "auto"
  // skips. Without any adapter (no mesa-vulkan-drivers) only CI must fail.
  const adapter = await (navigator as { gpu?: GPU }).gpu?.requestAdapter();
  if (!adapter && Deno.env.get("CI")) {
    throw new Error("CI needs a WebGPU adapter: install mesa-vulkan-drivers");
  }
  if (!adapter) {
    console.warn("No WebGPU adapter: comparing wasm and cpu only");
  }
  const backends = adapter
    ? ["wasm", "cpu", "webgpu"] as const
    : ["wasm", "cpu"] as const;
  for (const backend of backends) {
    const runtime = await tinyRuntime(backend);
    assert.equal(runtime.backend.name, backend);
    assert.equal(tf.getBackend(), backend);
    const pass = await runtime.run(input, {
      layer: "b_relu2",
      gradients: true,
    });
    results.set(backend, { logits: pass.logits, grads: pass.gradients!.data });
    runtime.dispose();
  }
  // Release the WebGPU device and the WASM threads before the module ends
  // rather than leaving them to process teardown.
  shutdownBackend();
  const wasm = results.get("wasm")!;
  for (const backend of backends.slice(1)) {
    assertClose(results.get(backend)!.logits, wasm.logits, 1e-4);
    assertClose(results.get(backend)!.grads, wasm.grads, 1e-4);
  }
});
