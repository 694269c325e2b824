/**
 * The tiny network with one shared pass over a fixed input, for checking
 * the extra-pass methods against plain-loop versions of their formulas.
 *
 * @module
 */
import type { ExplainContext } from "../../explainers/types.ts";
import type { ModelRuntime } from "../../models/mod.ts";
import { tinyRuntime } from "../_shared.ts";

let shared: Promise<ModelRuntime> | null = null;

/** One tiny runtime (32×32 input, 10 classes) for this process. */
export function tiny(): Promise<ModelRuntime> {
  shared ??= tinyRuntime("wasm");
  return shared;
}

/** A fixed, image-like 32×32 input in the tiny model's [-1, 1] range. */
export const tinyInput = new Float32Array(32 * 32 * 3).map((_, i) =>
  Math.sin(i * 0.13) * 0.8 + Math.cos(i * 0.031) * 0.2
);

/** The shared pass at `layer` (with gradients) as an explainer context. */
export async function tinyContext(
  layer = "b_out",
  classIndex?: number,
): Promise<ExplainContext> {
  const runtime = await tiny();
  const pass = await runtime.run(tinyInput, {
    layer,
    gradients: true,
    classIndex,
  });
  return { runtime, pass, input: tinyInput };
}

/** Softmax, written out. */
export function naiveSoftmax(v: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]);
  const e = Array.from(v, (x) => Math.exp(x - max));
  const sum = e.reduce((s, x) => s + x, 0);
  return e.map((x) => x / sum);
}
