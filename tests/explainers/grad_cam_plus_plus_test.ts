import assert from "node:assert/strict";
import { gradCamPlusPlusExplainer } from "../../explainers/grad_cam_plus_plus.ts";
import { assertClose, nested, syntheticContext } from "./_synthetic.ts";

Deno.test("gradcam++ equals its formula written with plain loops", async () => {
  const ctx = syntheticContext(3, 4, 5);
  const { A, G } = nested(ctx);
  const K = 5;
  const expected: number[] = [];
  const w: number[] = [];
  for (let k = 0; k < K; k++) {
    let S = 0;
    for (const row of A) S += row[k];
    w[k] = 0;
    for (let p = 0; p < A.length; p++) {
      const g = G[p][k];
      const alpha = g === 0 ? 0 : g ** 2 / (2 * g ** 2 + S * g ** 3 + 1e-6);
      w[k] += Math.max(g, 0) * alpha;
    }
  }
  for (let p = 0; p < A.length; p++) {
    let sum = 0;
    for (let k = 0; k < K; k++) sum += w[k] * A[p][k];
    expected.push(sum);
  }
  const map = await gradCamPlusPlusExplainer().explain(ctx, {});
  assert.equal(map.width, 4);
  assert.equal(map.height, 3);
  assertClose(map.values, expected);
});
