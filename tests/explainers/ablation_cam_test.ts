import assert from "node:assert/strict";
import { ablationCamExplainer } from "../../explainers/ablation_cam.ts";
import { assertClose } from "./_synthetic.ts";
import { tinyContext } from "./_tiny.ts";

Deno.test("ablationcam equals (y − y_k) / y with one continued pass per channel", async () => {
  for (const layer of ["b_out", "b_relu2", "stem_relu"]) {
    const ctx = await tinyContext(layer, 3);
    const a = ctx.pass.activations!;
    const y = ctx.pass.logits[3];
    const w: number[] = [];
    for (let k = 0; k < a.channels; k++) {
      const ablated = a.data.slice();
      for (let p = 0; p < a.height * a.width; p++) {
        ablated[p * a.channels + k] = 0;
      }
      const [logits] = await ctx.runtime.logitsFromActivations(
        ctx.input,
        layer,
        [ablated],
      );
      w.push((y - logits[3]) / y);
    }
    const expected: number[] = [];
    for (let p = 0; p < a.height * a.width; p++) {
      let sum = 0;
      for (let k = 0; k < a.channels; k++) {
        sum += w[k] * a.data[p * a.channels + k];
      }
      expected.push(sum);
    }
    const start = ctx.runtime.counters.batchItems;
    const map = await ablationCamExplainer().explain(ctx, {
      topChannels: 0,
      batchSize: 5,
    });
    assertClose(map.values, expected);
    // Zeroing a channel that is zero everywhere changes nothing: one pass
    // serves all of them.
    const zeros = [...Array(a.channels).keys()].filter((k) =>
      [...Array(a.height * a.width).keys()].every((p) =>
        a.data[p * a.channels + k] === 0
      )
    ).length;
    assert.equal(
      ctx.runtime.counters.batchItems - start,
      a.channels - Math.max(0, zeros - 1),
      `${layer}: ${zeros} channels zero everywhere`,
    );
  }
});

Deno.test("ablationcam with topChannels ablates only the strongest channels", async () => {
  const ctx = await tinyContext("b_out");
  const start = ctx.runtime.counters.batchItems;
  const all = await ablationCamExplainer().explain(ctx, {
    topChannels: 0,
    batchSize: 16,
  });
  const some = await ablationCamExplainer().explain(ctx, {
    topChannels: 3,
    batchSize: 16,
  });
  // All 16 channels, but one pass for those zero everywhere; then the top 3.
  const a = ctx.pass.activations!;
  const zeros =
    [...Array(a.channels).keys()].filter((k) =>
      [...Array(a.height * a.width).keys()].every((p) =>
        a.data[p * a.channels + k] === 0
      )
    ).length;
  assert.equal(
    ctx.runtime.counters.batchItems - start,
    16 - Math.max(0, zeros - 1) + 3,
  );
  assert.notDeepEqual(all.values, some.values);
});
