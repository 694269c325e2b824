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
