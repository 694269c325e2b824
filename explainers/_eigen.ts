/**
 * The top eigenvector of a symmetric positive semi-definite operator, by
 * Lanczos iteration with full reorthogonalisation and explicit restarts: a
 * few dozen products with the operator where power iteration needs
 * thousands once the top two eigenvalues are close, and the operator need
 * not be a formed matrix (EigenCAM applies Xᵀ(X·v) when forming XᵀX would
 * cost more).
 *
 * @module
 */

/** Writes A·x into y, for a symmetric positive semi-definite A. */
export type SymmetricOperator = (x: Float64Array, y: Float64Array) => void;

/** Lanczos steps between restarts. */
const KRYLOV_STEPS = 32;
const MAX_RESTARTS = 60;
/** Stop once ‖A·v − λ·v‖ ≤ this × λ: far below the maps' 1e-4 tolerance. */
const RESIDUAL_TOLERANCE = 1e-11;

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function unit(v: Float64Array): Float64Array | null {
  const norm = Math.sqrt(dot(v, v));
  return norm > 0 ? v.map((x) => x / norm) : null;
}

/**
 * The largest eigenvalue of a small symmetric matrix (row-major m×m) and
 * its unit eigenvector, by cyclic Jacobi rotations.
 */
function topOfSmall(
  matrix: Float64Array,
  m: number,
): { value: number; vector: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let scale = 0;
    for (let p = 0; p < m; p++) {
      scale += a[p * m + p] ** 2;
      for (let q = p + 1; q < m; q++) off += a[p * m + q] ** 2;
    }
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q];
        if (apq === 0) continue;
        const theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        const t = Math.sign(theta || 1) /
          (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p];
          const akq = a[k * m + q];
          a[k * m + p] = c * akp - s * akq;
          a[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k];
          const aqk = a[q * m + k];
          a[p * m + k] = c * apk - s * aqk;
          a[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p];
          const vkq = v[k * m + q];
          v[k * m + p] = c * vkp - s * vkq;
          v[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < m; i++) {
    if (a[i * m + i] > a[best * m + best]) best = i;
  }
  const vector = new Float64Array(m);
  for (let k = 0; k < m; k++) vector[k] = v[k * m + best];
  return { value: a[best * m + best], vector };
}

/**
 * The unit eigenvector of the largest eigenvalue of `apply` (size
 * `start.length`), starting from `start`. Returns null when the operator is
 * zero on everything reachable from `start` (e.g. `start` is zero).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = [2, 0, 0, 1]; // diag(2, 1)
 * const apply = (x: Float64Array, y: Float64Array) => {
 *   y[0] = a[0] * x[0] + a[1] * x[1];
 *   y[1] = a[2] * x[0] + a[3] * x[1];
 * };
 * const v = topEigenvector(apply, new Float64Array([1, 1]))!;
 * assert.deepEqual(Array.from(v, (x) => Math.abs(Number(x.toFixed(6)))), [1, 0]); // ≈ ±[1, 0]
 * ```
 */
export function topEigenvector(
  apply: SymmetricOperator,
  start: Float64Array,
): Float64Array | null {
  const n = start.length;
  let v = unit(start);
  if (!v) return null;
  const w = new Float64Array(n);
  for (let restart = 0; restart < MAX_RESTARTS; restart++) {
    const steps = Math.min(KRYLOV_STEPS, n);
    const basis: Float64Array[] = [];
    const alpha: number[] = [];
    const beta: number[] = [];
    let q = v;
    let lastBeta = 0;
    for (let j = 0; j < steps; j++) {
      basis.push(q);
      apply(q, w);
      alpha.push(dot(q, w));
      // Against every earlier vector, twice: float64 Lanczos otherwise
      // loses orthogonality and finds the top eigenvalue again.
      for (let pass = 0; pass < 2; pass++) {
        for (const b of basis) {
          const c = dot(b, w);
          for (let i = 0; i < n; i++) w[i] -= c * b[i];
        }
      }
      lastBeta = Math.sqrt(dot(w, w));
      if (j === steps - 1 || lastBeta <= 1e-14 * Math.abs(alpha[0])) break;
      beta.push(lastBeta);
      q = w.map((x) => x / lastBeta);
    }
    const m = alpha.length;
    const tridiagonal = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      tridiagonal[i * m + i] = alpha[i];
      if (i + 1 < m) {
        tridiagonal[i * m + i + 1] = beta[i];
        tridiagonal[(i + 1) * m + i] = beta[i];
      }
    }
    const { value, vector } = topOfSmall(tridiagonal, m);
    if (!(value > 0)) return null;
    const ritz = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      const b = basis[i];
      for (let k = 0; k < n; k++) ritz[k] += vector[i] * b[k];
    }
    v = unit(ritz);
    if (!v) return null;
    // Lanczos' residual estimate: ‖A·v − λ·v‖ = |β_m · y_m|.
    if (Math.abs(lastBeta * vector[m - 1]) <= RESIDUAL_TOLERANCE * value) {
      return v;
    }
  }
  return v;
}

/**
 * `apply` for a formed symmetric matrix (row-major n×n).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const apply = matrixOperator(new Float64Array([2, 0, 0, 1]), 2);
 * const y = new Float64Array(2);
 * apply(new Float64Array([1, 1]), y);
 * assert.deepEqual(y, new Float64Array([2, 1]));
 * const v = topEigenvector(apply, new Float64Array([1, 1]))!;
 * assert.deepEqual(Array.from(v, (x) => Math.abs(Number(x.toFixed(6)))), [1, 0]); // ≈ ±[1, 0]
 * ```
 */
export function matrixOperator(
  matrix: Float64Array,
  n: number,
): SymmetricOperator {
  return (x, y) => {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) sum += matrix[row + j] * x[j];
      y[i] = sum;
    }
  };
}
