import assert from "node:assert/strict";
import { matrixOperator, topEigenvector } from "../../explainers/_eigen.ts";

/** Q·diag(values)·Qᵀ for the orthogonal Q of a Householder reflection. */
function withSpectrum(values: number[]): { a: Float64Array; q0: number[] } {
  const n = values.length;
  const h = Array.from({ length: n }, (_, i) => Math.sin(1 + i * 0.7));
  const hn = h.reduce((s, x) => s + x * x, 0);
  const q = (i: number, j: number) => (i === j ? 1 : 0) - 2 * h[i] * h[j] / hn;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += q(i, k) * values[k] * q(j, k);
      a[i * n + j] = sum;
    }
  }
  // The eigenvector of values[0] is Q's first column.
  return { a, q0: Array.from({ length: n }, (_, i) => q(i, 0)) };
}

for (const n of [5, 60, 200]) {
  Deno.test(`topEigenvector: the top eigenvector of a ${n}×${n} matrix whose top two eigenvalues differ by 1e-3`, () => {
    const values = Array.from(
      { length: n },
      (_, i) => (i === 0 ? 1 : i === 1 ? 0.999 : 0.9 / i),
    );
    const { a, q0 } = withSpectrum(values);
    const start = Float64Array.from({ length: n }, (_, i) => 1 + (i % 3));
    const v = topEigenvector(matrixOperator(a, n), start)!;
    const sign = Math.sign(v[0] * q0[0]);
    const error = Math.max(...q0.map((x, i) => Math.abs(sign * v[i] - x)));
    assert.ok(error < 1e-6, `error ${error}`);
  });
}

Deno.test("topEigenvector: a zero operator, or a start it maps to zero, gives null", () => {
  const zero = new Float64Array(9);
  assert.equal(
    topEigenvector(matrixOperator(zero, 3), new Float64Array([1, 2, 3])),
    null,
  );
  const diag = new Float64Array([1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(
    topEigenvector(matrixOperator(diag, 3), new Float64Array([0, 1, 1])),
    null,
  );
  assert.equal(
    topEigenvector(matrixOperator(diag, 3), new Float64Array(3)),
    null,
  );
});

Deno.test("topEigenvector: an eigenvector of the top eigenvalue when it is repeated, when the spectrum spans 16 orders of magnitude, and at sizes 1 and 2", () => {
  const spectra = [
    [3, 3, 3, 1, 0.5, 0.25, 0],
    Array.from({ length: 40 }, (_, i) => 10 ** (8 - (16 * i) / 39)),
    [2],
    [1, 4],
    Array.from({ length: 50 }, (_, i) => 1 / (1 + i)), // ResNet layer4's 49 pixels, about
  ];
  for (const values of spectra) {
    const n = values.length;
    const { a } = withSpectrum(values);
    const start = Float64Array.from({ length: n }, (_, i) => 1 + (i % 5));
    const v = topEigenvector(matrixOperator(a, n), start)!;
    const top = Math.max(...values);
    const av = new Float64Array(n);
    matrixOperator(a, n)(v, av);
    const residual = Math.sqrt(
      av.reduce((s, x, i) => s + (x - top * v[i]) ** 2, 0),
    );
    assert.ok(
      residual <= 1e-9 * top,
      `${n}: residual ${residual} for λ ${top}`,
    );
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-12);
  }
});
