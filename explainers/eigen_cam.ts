/**
 * EigenCAM (Muhammad & Yeasin 2020): the layer's activations projected on
 * their first principal component. Class-agnostic and gradient-free.
 *
 * @module
 */
import { camExplainer } from "./cam.ts";
import {
  matrixOperator,
  type SymmetricOperator,
  topEigenvector,
} from "./_eigen.ts";
import { euclidean } from "./_maths.ts";
import type { Explainer, RawMap } from "./types.ts";
import type { FeatureMap } from "../models/mod.ts";

/**
 * The projection of an HWC map, seen as an (H·W)×K matrix X with each
 * column (channel) centred, on its first right singular vector v: the map
 * X·v, at the map's resolution. v is found by Lanczos iteration on
 * whichever Gram matrix is smaller: XᵀX (K×K) or XXᵀ (HW×HW, then v ∝ Xᵀu). Its sign,
 * arbitrary in an SVD, is chosen so that the projection correlates
 * positively with the map's (uncentred) channel sum Σ_k X_k. With `times`,
 * the map is `m.data ⊙ times` (each product rounded to 32 bits, as in a
 * Float32Array of them), without that array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Two pixels, two channels that rise together: the projection follows them.
 * const m = { height: 1, width: 2, channels: 2, data: new Float32Array([0, 0, 1, 2]) };
 * const { values } = firstComponentProjection(m);
 * assert.deepEqual(Array.from(values, (v) => Number(v.toFixed(3))), [-1.118, 1.118]);
 * ```
 */
export function firstComponentProjection(
  m: FeatureMap,
  times?: Float32Array,
): RawMap {
  const { height, width, channels: k } = m;
  const n = height * width;
  const x = new Float64Array(n * k);
  // The map's values first (uncentred), then centred in place.
  if (times) {
    for (let i = 0; i < n * k; i++) x[i] = Math.fround(m.data[i] * times[i]);
  } else {
    for (let i = 0; i < n * k; i++) x[i] = m.data[i];
  }
  const means = new Float64Array(k);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < k; c++) means[c] += x[p * k + c];
  }
  for (let c = 0; c < k; c++) means[c] /= n;
  const channelSum = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < k; c++) {
      const value = x[p * k + c];
      x[p * k + c] = value - means[c];
      channelSum[p] += value;
    }
  }
  // Start where the answer likely is (along the centred channel sum), with a
  // small deterministic spread so no eigenvector is missed by orthogonality.
  const sumMean = channelSum.reduce((s, v) => s + v, 0) / n;
  const centredSum = channelSum.map((v) => v - sumMean);
  const jitter = (i: number) => ((i * 0.6180339887498949) % 1) - 0.5;
  // Vectors live in the smaller of channel space (XᵀX, k×k) and pixel
  // space (XXᵀ, n×n). Forming that Gram matrix costs small²·big/2; applying
  // X twice instead costs 2·n·k per Lanczos step, and one round of 32 steps
  // is the usual need (ResNet-50's layer2 to layer4 on the test photos).
  const small = Math.min(n, k);
  const formGram = small * small * Math.max(n, k) / 2 < 2 * n * k * 32;
  const start = new Float64Array(small);
  if (k <= n) {
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < k; c++) start[c] += x[p * k + c] * centredSum[p];
    }
  } else {
    start.set(centredSum);
  }
  const apply = formGram
    ? matrixOperator(gramMatrix(x, n, k), small)
    : (k <= n ? channelGram(x, n, k) : pixelGram(x, n, k));
  const top = topEigenvector(apply, withJitter(start, jitter));
  let v: Float64Array | null = top;
  if (top && k > n) {
    // v ∝ Xᵀu for the pixel-space eigenvector u.
    const xu = new Float64Array(k);
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < k; c++) xu[c] += x[p * k + c] * top[p];
    }
    const norm = euclidean(xu);
    v = norm > 0 ? xu.map((value) => value / norm) : null;
  }
  const values = new Float32Array(n);
  if (!v) return { width, height, values };
  const projection = new Float64Array(n);
  let agreement = 0;
  for (let p = 0; p < n; p++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += x[p * k + c] * v[c];
    projection[p] = sum;
    // The projection has zero mean, so this is its covariance with the sum.
    agreement += sum * channelSum[p];
  }
  const sign = agreement < 0 ? -1 : 1;
  for (let p = 0; p < n; p++) values[p] = sign * projection[p];
  return { width, height, values };
}

/** The smaller Gram matrix of X (n×k, row-major): XᵀX if k ≤ n, else XXᵀ. */
function gramMatrix(x: Float64Array, n: number, k: number): Float64Array {
  if (k <= n) {
    const gram = new Float64Array(k * k);
    for (let p = 0; p < n; p++) {
      const row = p * k;
      for (let a = 0; a < k; a++) {
        const xa = x[row + a];
        if (xa === 0) continue;
        for (let b = a; b < k; b++) gram[a * k + b] += xa * x[row + b];
      }
    }
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < a; b++) gram[a * k + b] = gram[b * k + a];
    }
    return gram;
  }
  const gram = new Float64Array(n * n);
  const set = (p: number, q: number, sum: number) => {
    gram[p * n + q] = sum;
    gram[q * n + p] = sum;
  };
  for (let p = 0; p < n; p++) {
    const rowP = p * k;
    let q = p;
    // Four rows against row p at once: row p is read once for four sums,
    // each summed in the same order as alone (so the same bits).
    for (; q + 3 < n; q += 4) {
      const r0 = q * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0; c < k; c++) {
        const xp = x[rowP + c];
        s0 += xp * x[r0 + c];
        s1 += xp * x[r1 + c];
        s2 += xp * x[r2 + c];
        s3 += xp * x[r3 + c];
      }
      set(p, q, s0);
      set(p, q + 1, s1);
      set(p, q + 2, s2);
      set(p, q + 3, s3);
    }
    for (; q < n; q++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += x[rowP + c] * x[q * k + c];
      set(p, q, sum);
    }
  }
  return gram;
}

/** y = Xᵀ(X·v), v in channel space, without forming XᵀX. */
function channelGram(
  x: Float64Array,
  n: number,
  k: number,
): SymmetricOperator {
  const t = new Float64Array(n);
  return (v, y) => {
    for (let p = 0; p < n; p++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += x[p * k + c] * v[c];
      t[p] = sum;
    }
    y.fill(0);
    for (let p = 0; p < n; p++) {
      const tp = t[p];
      for (let c = 0; c < k; c++) y[c] += x[p * k + c] * tp;
    }
  };
}

/** y = X(Xᵀ·u), u in pixel space, without forming XXᵀ. */
function pixelGram(x: Float64Array, n: number, k: number): SymmetricOperator {
  const t = new Float64Array(k);
  return (u, y) => {
    t.fill(0);
    for (let p = 0; p < n; p++) {
      const up = u[p];
      for (let c = 0; c < k; c++) t[c] += x[p * k + c] * up;
    }
    for (let p = 0; p < n; p++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += x[p * k + c] * t[c];
      y[p] = sum;
    }
  };
}

/** `start` nudged by a small deterministic spread (1e-3 of its norm). */
function withJitter(
  start: Float64Array,
  jitter: (i: number) => number,
): Float64Array {
  const scale = euclidean(start) || 1;
  return start.map((v, i) => v + 1e-3 * scale * jitter(i + 1));
}

/**
 * Makes the `eigencam` explainer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const explainer = eigenCamExplainer();
 * assert.equal(explainer.needsGradients, false);
 * ```
 */
export function eigenCamExplainer(): Explainer<Record<never, never>> {
  return camExplainer({
    name: "eigencam",
    description:
      "EigenCAM: the activations projected on their first principal component (class-agnostic, no gradients)",
    needsGradients: false,
    map: (a) => firstComponentProjection(a),
  });
}
