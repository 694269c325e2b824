/**
 * A synthetic shared pass with known activations A and gradients G, for
 * checking CAM formulas against plain-loop implementations.
 *
 * @module
 */
import type { ExplainContext } from "../../explainers/types.ts";
import type { FeatureMap, ModelPass, ModelRuntime } from "../../models/mod.ts";

/** A deterministic pseudo-random sequence in [0, 1). */
export function sequence(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/**
 * Activations like a ReLU's output (non-negative, about a third zero) and
 * gradients of both signs with some exact zeros.
 */
export function syntheticContext(
  height: number,
  width: number,
  channels: number,
  seed = 11,
): ExplainContext {
  const next = sequence(seed);
  const size = height * width * channels;
  const a = new Float32Array(size).map(() => {
    const v = next() * 3 - 1;
    return v > 0 ? v : 0;
  });
  const g = new Float32Array(size).map(() => {
    const v = next() * 2 - 1;
    return Math.abs(v) < 0.15 ? 0 : v;
  });
  const map = (data: Float32Array): FeatureMap => ({
    height,
    width,
    channels,
    data,
  });
  const pass: ModelPass = {
    logits: new Float32Array(2),
    probabilities: new Float32Array(2),
    classIndex: 0,
    layer: null,
    activations: map(a),
    gradients: map(g),
  };
  return { runtime: {} as ModelRuntime, pass, input: new Float32Array() };
}

/** A[p][k] and G[p][k] as nested arrays (p = row-major pixel index). */
export function nested(ctx: ExplainContext): { A: number[][]; G: number[][] } {
  const { height, width, channels } = ctx.pass.activations!;
  const A: number[][] = [];
  const G: number[][] = [];
  for (let p = 0; p < height * width; p++) {
    A.push([]);
    G.push([]);
    for (let k = 0; k < channels; k++) {
      A[p].push(ctx.pass.activations!.data[p * channels + k]);
      G[p].push(ctx.pass.gradients!.data[p * channels + k]);
    }
  }
  return { A, G };
}

/** Asserts two maps agree within `tolerance`, naming the first difference. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance = 1e-4,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`Lengths differ: ${actual.length} vs ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
      throw new Error(
        `Value ${i}: ${actual[i]} vs expected ${
          expected[i]
        } (tolerance ${tolerance})`,
      );
    }
  }
}
