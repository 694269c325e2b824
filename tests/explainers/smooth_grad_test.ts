import assert from "node:assert/strict";
import { gaussianSource } from "../../lib/random.ts";
import { smoothGradExplainer } from "../../explainers/smooth_grad.ts";
import { assertClose } from "./_synthetic.ts";
import { tinyContext } from "./_tiny.ts";

Deno.test("smoothgrad averages saliency over seeded noisy copies, one gradient at a time", async () => {
  const ctx = await tinyContext("b_out", 2);
  const samples = 5;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ctx.input) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const sigma = 0.15 * (hi - lo);
  const next = gaussianSource(9);
  const sum = new Array(32 * 32).fill(0);
  for (let s = 0; s < samples; s++) {
    const noisy = new Float32Array(ctx.input.length);
    for (let i = 0; i < noisy.length; i++) {
      noisy[i] = ctx.input[i] + sigma * next();
    }
    const { gradients } = await ctx.runtime.inputGradients([noisy], 2);
    for (let p = 0; p < 32 * 32; p++) {
      let m = 0;
      for (let c = 0; c < 3; c++) {
        m = Math.max(m, Math.abs(gradients[0][p * 3 + c]));
      }
      sum[p] += m;
    }
  }
  const expected = sum.map((v) => v / samples);
  const explainer = smoothGradExplainer();
  const map = await explainer.explain(
    ctx,
    explainer.parseParams({ samples, seed: 9, batchSize: 2 }),
  );
  assert.equal(map.width, 32);
  assertClose(map.values, expected);
});

Deno.test("smoothgrad with sigma 0 is saliency; the seed changes the noise", async () => {
  const ctx = await tinyContext("b_out", 2);
  const explainer = smoothGradExplainer();
  const { gradients } = await ctx.runtime.inputGradients([ctx.input], 2);
  const plain = await explainer.explain(
    ctx,
    explainer.parseParams({ samples: 2, sigma: 0 }),
  );
  plain.values.forEach((v, p) => {
    const g = gradients[0].subarray(p * 3, p * 3 + 3).map(Math.abs);
    assert.ok(Math.abs(v - Math.max(...g)) < 1e-6);
  });
  const a = await explainer.explain(ctx, explainer.parseParams({ samples: 2 }));
  const b = await explainer.explain(
    ctx,
    explainer.parseParams({ samples: 2, seed: 1 }),
  );
  assert.notDeepEqual(a.values, b.values);
});

Deno.test("the noise source is standard normal and seeded", () => {
  const next = gaussianSource(3);
  const n = 20000;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const x = next();
    sum += x;
    squares += x * x;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(squares / n - 1) < 0.05, `variance ${squares / n}`);
  const again = gaussianSource(3);
  const first = gaussianSource(3)();
  assert.equal(again(), first);
  assert.notEqual(gaussianSource(4)(), first);
});
