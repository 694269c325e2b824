import assert from "node:assert/strict";
import { saliencyExplainer } from "../../explainers/saliency.ts";
import { assertClose } from "./_synthetic.ts";
import { tinyContext } from "./_tiny.ts";

Deno.test("saliency is max over colours of |∂y/∂x| at input resolution", async () => {
  const ctx = await tinyContext("b_out", 6);
  const { gradients } = await ctx.runtime.inputGradients([ctx.input], 6);
  const expected: number[] = [];
  for (let p = 0; p < 32 * 32; p++) {
    let m = 0;
    for (let c = 0; c < 3; c++) {
      m = Math.max(m, Math.abs(gradients[0][p * 3 + c]));
    }
    expected.push(m);
  }
  const map = await saliencyExplainer().explain(ctx, {});
  assert.equal(map.width, 32);
  assert.equal(map.height, 32);
  assertClose(map.values, expected, 1e-6);
});

Deno.test("saliency's gradient agrees with finite differences of the logit", async () => {
  const ctx = await tinyContext("b_out", 6);
  const { gradients } = await ctx.runtime.inputGradients([ctx.input], 6);
  const g = gradients[0];
  // The three largest gradient components: big enough for float32.
  const picks = [...g.keys()].sort((i, j) => Math.abs(g[j]) - Math.abs(g[i]))
    .slice(0, 3);
  const eps = 1e-2;
  for (const i of picks) {
    const up = ctx.input.slice();
    const down = ctx.input.slice();
    up[i] += eps;
    down[i] -= eps;
    const [lu, ld] = await ctx.runtime.logits([up, down]);
    const fd = (lu[6] - ld[6]) / (2 * eps);
    assert.ok(
      Math.abs(fd - g[i]) <= 2e-2 * Math.abs(g[i]),
      `component ${i}: ${g[i]} vs finite difference ${fd}`,
    );
  }
});
