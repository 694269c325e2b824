import assert from "node:assert/strict";
import {
  occlusionExplainer,
  occlusionGrid,
} from "../../explainers/occlusion.ts";
import type { ExplainContext } from "../../explainers/types.ts";
import { assertClose } from "./_synthetic.ts";
import { naiveSoftmax, tinyContext } from "./_tiny.ts";

async function naiveOcclusion(
  ctx: ExplainContext,
  size: number,
  stride: number,
  fill: number,
) {
  const c = ctx.pass.classIndex;
  const p = naiveSoftmax(ctx.pass.logits)[c];
  const values: number[] = [];
  let rows = 0;
  for (let top = 0; top + size <= 32; top += stride) {
    rows++;
    for (let left = 0; left + size <= 32; left += stride) {
      const x = ctx.input.slice();
      for (let y = top; y < top + size; y++) {
        for (let xx = left; xx < left + size; xx++) {
          for (let ch = 0; ch < 3; ch++) x[(y * 32 + xx) * 3 + ch] = fill;
        }
      }
      const [logits] = await ctx.runtime.logits([x]);
      values.push(p - naiveSoftmax(logits)[c]);
    }
  }
  return { values, rows };
}

Deno.test("occlusion equals the probability drop per patch, one forward pass at a time", async () => {
  const ctx = await tinyContext("b_out", 7);
  const explainer = occlusionExplainer();
  for (
    const options of [{}, { size: 8, stride: 8, fill: 0.5, batchSize: 5 }]
  ) {
    const params = explainer.parseParams(options);
    const map = await explainer.explain(ctx, params);
    const size = params.size ?? 5; // 32 px at 224 → 4.6 → 5 at 32
    const stride = params.stride ?? 2;
    const expected = await naiveOcclusion(ctx, size, stride, params.fill);
    assert.equal(map.height, expected.rows);
    assert.equal(map.width, expected.values.length / expected.rows);
    assertClose(map.values, expected.values);
  }
});

Deno.test("occlusion's grid: 13×13 at 224 px by default, patch no larger than the input", () => {
  assert.deepEqual(occlusionGrid(224, 224, { size: null, stride: null }), {
    size: 32,
    stride: 16,
    columns: 13,
    rows: 13,
  });
  assert.deepEqual(occlusionGrid(32, 32, { size: null, stride: null }), {
    size: 5,
    stride: 2,
    columns: 14,
    rows: 14,
  });
  assert.throws(
    () => occlusionGrid(32, 32, { size: 33, stride: 1 }),
    /occlusion: size must be at most the input's 32 pixels, got 33/,
  );
});
