/**
 * The forward pass side by side: Lumen on onnxruntime, bare ONNX Runtime
 * sessions on the same bytes and threads, and Lumen on TF.js WASM, in
 * turns, each on an input no cache has seen (optionally after an idle gap,
 * see `AlternateOptions.gapMs`).
 *
 * @module
 */
import type { Engines } from "./engines.ts";
import { freshInputs } from "./images.ts";
import { alternate } from "./stats.ts";

/**
 * One round of forwards; samples by figure id.
 *
 * @example
 * ```ts
 * const samples = await forwardRound(engines, { input, runs: 10 });
 * samples["forward.lumen-ort"].length; // 10
 * ```
 */
export async function forwardRound(
  engines: Engines,
  options: { input: Float32Array; runs: number; gapMs?: number },
): Promise<Record<string, number[]>> {
  const fresh = freshInputs(options.input);
  const { ort, wasm, bare, bareLumen } = engines;
  const contenders: Record<string, () => Promise<unknown>> = {
    "forward.lumen-ort": () => ort.run(fresh(), { layer: null }),
    "forward.bare-ort": () => bare.forward(fresh()),
    "forward.bare-ort-lumen": () => bareLumen.forward(fresh()),
  };
  if (wasm) {
    contenders["forward.lumen-wasm"] = () => wasm.run(fresh(), { layer: null });
  }
  return await alternate(contenders, {
    runs: options.runs,
    warmUp: 2,
    gapMs: options.gapMs,
  });
}

/**
 * How far the bare session's logits are from Lumen's on one input: the
 * largest difference relative to the largest logit, and whether the top-1
 * classes agree (a check that both run the same network).
 *
 * @example
 * ```ts
 * const { relative, sameTop } = await forwardAgreement(engines, input);
 * ```
 */
export async function forwardAgreement(
  engines: Engines,
  input: Float32Array,
): Promise<{ relative: number; sameTop: boolean }> {
  const lumen = (await engines.ort.run(input, { layer: null })).logits;
  const bare = await engines.bare.forward(input);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < lumen.length; i++) {
    diff = Math.max(diff, Math.abs(lumen[i] - bare[i]));
    scale = Math.max(scale, Math.abs(lumen[i]));
  }
  const top = (x: Float32Array) => x.indexOf(Math.max(...x));
  return { relative: diff / scale, sameTop: top(lumen) === top(bare) };
}
