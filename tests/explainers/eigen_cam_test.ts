import assert from "node:assert/strict";
import {
  eigenCamExplainer,
  firstComponentProjection,
} from "../../explainers/eigen_cam.ts";
import { eigenGradCamExplainer } from "../../explainers/eigen_grad_cam.ts";
import { assertClose, nested, syntheticContext } from "./_synthetic.ts";

/**
 * All eigenpairs of a small symmetric matrix by cyclic Jacobi rotations
 * (an algorithm independent of the Lanczos iteration under test).
 */
function jacobiEigen(m: number[][]): { values: number[]; vectors: number[][] } {
  const n = m.length;
  let S = m.map((row) => [...row]);
  let V: number[][] = m.map((_, i) => m.map((_, j) => (i === j ? 1 : 0)));
  const multiply = (a: number[][], b: number[][]) =>
    a.map((_, i) =>
      b[0].map((_, j) => a[i].reduce((s, _, k) => s + a[i][k] * b[k][j], 0))
    );
  const transpose = (a: number[][]) => a[0].map((_, j) => a.map((r) => r[j]));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) off += S[p][q] ** 2;
    }
    if (off < 1e-24) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(S[p][q]) < 1e-300) continue;
        const theta = (S[q][q] - S[p][p]) / (2 * S[p][q]);
        const t = (theta >= 0 ? 1 : -1) /
          (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        const J: number[][] = S.map((_, i) =>
          S.map((_, j) => (i === j ? 1 : 0))
        );
        J[p][p] = c;
        J[q][q] = c;
        J[p][q] = s;
        J[q][p] = -s;
        S = multiply(transpose(J), multiply(S, J));
        V = multiply(V, J);
      }
    }
  }
  let off = 0;
  for (let p = 0; p < n; p++) {
    for (let q = p + 1; q < n; q++) off += S[p][q] ** 2;
  }
  assert.ok(off < 1e-20, `Jacobi did not converge: ${off}`);
  return { values: S.map((row, i) => row[i]), vectors: transpose(V) };
}

/** The EigenCAM formula, naively: centre, covariance, top eigenvector, sign. */
function naiveProjection(X: number[][]): number[] {
  const n = X.length;
  const K = X[0].length;
  const mean = Array.from(
    { length: K },
    (_, k) => X.reduce((s, row) => s + row[k], 0) / n,
  );
  const C = X.map((row) => row.map((v, k) => v - mean[k]));
  const cov: number[][] = [];
  for (let a = 0; a < K; a++) {
    cov.push([]);
    for (let b = 0; b < K; b++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += C[p][a] * C[p][b];
      cov[a].push(s);
    }
  }
  const { values, vectors } = jacobiEigen(cov);
  const top = values.indexOf(Math.max(...values));
  const v = vectors[top];
  const projection = C.map((row) => row.reduce((s, x, k) => s + x * v[k], 0));
  // Pearson correlation with the channel sum decides the sign.
  const sums = X.map((row) => row.reduce((s, x) => s + x, 0));
  const ms = sums.reduce((s, x) => s + x, 0) / n;
  const mp = projection.reduce((s, x) => s + x, 0) / n;
  let cov1 = 0;
  for (let p = 0; p < n; p++) cov1 += (sums[p] - ms) * (projection[p] - mp);
  return cov1 < 0 ? projection.map((x) => -x) : projection;
}

for (const [h, w, k, path] of [[3, 4, 5, "K×K"], [2, 2, 6, "HW×HW"]] as const) {
  Deno.test(`eigencam equals a Jacobi-eigenvector projection (${path} Gram matrix)`, async () => {
    const ctx = syntheticContext(h, w, k);
    const { A } = nested(ctx);
    const map = await eigenCamExplainer().explain(ctx, {});
    assertClose(map.values, naiveProjection(A));
  });

  Deno.test(`eigengradcam projects G ⊙ A (${path} Gram matrix)`, async () => {
    const ctx = syntheticContext(h, w, k, 5);
    const { A, G } = nested(ctx);
    const GA = A.map((row, p) => row.map((a, c) => a * G[p][c]));
    const map = await eigenGradCamExplainer().explain(ctx, {});
    assertClose(map.values, naiveProjection(GA));
  });
}

Deno.test("eigencam of rank-one activations is the centred pattern, positively signed", () => {
  // A_pk = u_p · c_k: the first component is u itself (centred), scaled by |c|.
  const u = [0, 1, 3, 2];
  const c = [2, 1];
  const data = new Float32Array(u.flatMap((x) => c.map((y) => x * y)));
  const map = firstComponentProjection({
    height: 2,
    width: 2,
    channels: 2,
    data,
  });
  const norm = Math.hypot(...c);
  assertClose(map.values, u.map((x) => (x - 1.5) * norm), 1e-5);
});

Deno.test("eigencam of constant activations is all zeros, not NaN", () => {
  const map = firstComponentProjection({
    height: 2,
    width: 2,
    channels: 3,
    data: new Float32Array(12).fill(4),
  });
  assert.deepEqual([...map.values], [0, 0, 0, 0]);
});

for (const [height, width, channels] of [[16, 16, 300], [10, 30, 200]]) {
  Deno.test(`eigencam of a large rank-two map (${height}×${width}×${channels}: X applied twice, no Gram matrix) is its dominant centred pattern`, () => {
    // A_pk = 3·u_p·c_k + v_p·d_k with u ⊥ v, both centred, unit norm, and
    // c ⊥ d unit: the first component is u, and the map is 3·u.
    const n = height * width;
    const centred = (f: (p: number) => number) => {
      const raw = Array.from({ length: n }, (_, p) => f(p));
      const mean = raw.reduce((s, x) => s + x, 0) / n;
      const x = raw.map((r) => r - mean);
      const norm = Math.hypot(...x);
      return x.map((r) => r / norm);
    };
    const u = centred((p) => Math.sin(p * 0.37));
    const v0 = centred((p) => Math.cos(p * 0.11) + (p % 7));
    const uv = u.reduce((s, x, p) => s + x * v0[p], 0);
    const v = centred((p) => v0[p] - uv * u[p]);
    const c = Array.from({ length: channels }, (_, k) => (k % 2 ? 1 : 0));
    const d = Array.from({ length: channels }, (_, k) => (k % 2 ? 0 : 1));
    const cn = Math.hypot(...c);
    const dn = Math.hypot(...d);
    const data = new Float32Array(n * channels);
    for (let p = 0; p < n; p++) {
      for (let k = 0; k < channels; k++) {
        data[p * channels + k] = 3 * u[p] * c[k] / cn + v[p] * d[k] / dn;
      }
    }
    const map = firstComponentProjection({ height, width, channels, data });
    // The sign follows the channel sum, which correlates with u here or
    // against it: compare up to sign, then check the sign rule.
    const sign = Math.sign(map.values[0] * u[0]);
    assertClose(map.values, u.map((x) => sign * 3 * x), 1e-4);
    let agreement = 0;
    for (let p = 0; p < n; p++) {
      let sum = 0;
      for (let k = 0; k < channels; k++) sum += data[p * channels + k];
      agreement += sum * map.values[p];
    }
    assert.ok(agreement >= 0);
  });
}

Deno.test("firstComponentProjection(a, g): the projection of the products a ⊙ g as a Float32Array would hold them, bit for bit, in both Gram spaces", () => {
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (const [height, width, channels] of [[7, 7, 64], [2, 3, 40], [4, 4, 8]]) {
    const size = height * width * channels;
    const a = {
      height,
      width,
      channels,
      data: Float32Array.from({ length: size }, () => random() * 3),
    };
    // Products that do not fit 32 bits exactly: the rounding must match.
    const g = Float32Array.from({ length: size }, () => (random() - 0.4) / 3);
    const products = Float32Array.from(a.data, (v, i) => v * g[i]);
    assert.deepEqual(
      firstComponentProjection(a, g).values,
      firstComponentProjection({ ...a, data: products }).values,
    );
  }
});
