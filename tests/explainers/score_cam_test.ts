import assert from "node:assert/strict";
import { scoreCamExplainer } from "../../explainers/score_cam.ts";
import type { ExplainContext } from "../../explainers/types.ts";
import { assertClose } from "./_synthetic.ts";
import { naiveSoftmax, tinyContext } from "./_tiny.ts";

/** OpenCV-style bilinear resize (half-pixel centres, clamped), plain loops. */
function naiveUpsample(
  m: number[],
  w: number,
  h: number,
  W: number,
  H: number,
): number[] {
  const tap = (i: number, inSize: number, outSize: number) => {
    let f = (i + 0.5) * inSize / outSize - 0.5;
    if (f < 0) f = 0;
    let i0 = Math.floor(f);
    let t = f - i0;
    if (i0 >= inSize - 1) {
      i0 = inSize - 1;
      t = 0;
    }
    return { i0, i1: Math.min(i0 + 1, inSize - 1), t };
  };
  const out: number[] = [];
  for (let y = 0; y < H; y++) {
    const ty = tap(y, h, H);
    for (let x = 0; x < W; x++) {
      const tx = tap(x, w, W);
      const at = (yy: number, xx: number) => m[yy * w + xx];
      const top = at(ty.i0, tx.i0) * (1 - tx.t) + at(ty.i0, tx.i1) * tx.t;
      const bottom = at(ty.i1, tx.i0) * (1 - tx.t) + at(ty.i1, tx.i1) * tx.t;
      out.push(top * (1 - ty.t) + bottom * ty.t);
    }
  }
  return out;
}

/** Score-CAM with plain loops and one forward pass per channel. */
async function naiveScoreCam(ctx: ExplainContext, channels: number[]) {
  const a = ctx.pass.activations!;
  const { width: W, height: H } = ctx.runtime.inputSize;
  const c = ctx.pass.classIndex;
  const scores: number[] = [];
  for (const k of channels) {
    const m: number[] = [];
    for (let p = 0; p < a.height * a.width; p++) {
      m.push(a.data[p * a.channels + k]);
    }
    const up = naiveUpsample(m, a.width, a.height, W, H);
    const lo = Math.min(...up);
    const hi = Math.max(...up);
    const mask = up.map((v) => (v - lo) / (hi - lo + 1e-8));
    const masked = new Float32Array(ctx.input.length);
    for (let p = 0; p < W * H; p++) {
      for (let ch = 0; ch < 3; ch++) {
        masked[p * 3 + ch] = ctx.input[p * 3 + ch] * mask[p];
      }
    }
    const [logits] = await ctx.runtime.logits([masked]);
    scores.push(logits[c]);
  }
  const w = naiveSoftmax(scores);
  const map: number[] = [];
  for (let p = 0; p < a.height * a.width; p++) {
    let sum = 0;
    channels.forEach((k, i) => sum += w[i] * a.data[p * a.channels + k]);
    map.push(sum);
  }
  return map;
}

Deno.test("scorecam equals its formula with one forward pass per channel", async () => {
  for (const layer of ["b_out", "b_relu2"]) {
    const ctx = await tinyContext(layer);
    const all = [...Array(ctx.pass.activations!.channels).keys()];
    const map = await scoreCamExplainer().explain(ctx, {
      topChannels: 0,
      batchSize: 3,
    });
    assert.equal(map.width, 16);
    assertClose(map.values, await naiveScoreCam(ctx, all));
  }
});

Deno.test("scorecam with topChannels uses only the strongest channels (Faster Score-CAM)", async () => {
  const ctx = await tinyContext("b_out", 4);
  const a = ctx.pass.activations!;
  const means = [...Array(a.channels).keys()].map((k) => {
    let s = 0;
    for (let p = 0; p < a.height * a.width; p++) {
      s += a.data[p * a.channels + k];
    }
    return s;
  });
  const top = [...means.keys()].sort((i, j) => means[j] - means[i]).slice(0, 5);
  const start = ctx.runtime.counters.batchItems;
  const map = await scoreCamExplainer().explain(ctx, {
    topChannels: 5,
    batchSize: 16,
  });
  assert.equal(ctx.runtime.counters.batchItems - start, 5);
  assertClose(map.values, await naiveScoreCam(ctx, top));
});

Deno.test("scorecam scores the channels that are zero everywhere with one pass: the same map as a pass each", async () => {
  const ctx = await tinyContext("b_out");
  const a = ctx.pass.activations!;
  const all = [...Array(a.channels).keys()];
  const withZeros = (channels: number[]): ExplainContext => {
    const data = a.data.slice();
    for (const k of channels) {
      for (let p = k; p < data.length; p += a.channels) data[p] = 0;
    }
    return {
      ...ctx,
      pass: { ...ctx.pass, activations: { ...a, data } },
    };
  };
  for (const zeros of [[1, 4, 6], [5], []]) {
    const zeroed = withZeros(zeros);
    const start = ctx.runtime.counters.batchItems;
    const map = await scoreCamExplainer().explain(zeroed, {
      topChannels: 0,
      batchSize: 3,
    });
    const passes = ctx.runtime.counters.batchItems - start;
    // The tiny network's own ReLU zeroes some channels too.
    const zeroedMap = zeroed.pass.activations!;
    const zeroCount = all.filter((k) =>
      [...Array(a.height * a.width).keys()].every((p) =>
        zeroedMap.data[p * a.channels + k] === 0
      )
    ).length;
    assert.ok(zeroCount >= zeros.length);
    assert.equal(
      passes,
      a.channels - Math.max(0, zeroCount - 1),
      `zero channels ${zeros} and the network's own`,
    );
    assertClose(map.values, await naiveScoreCam(zeroed, all));
  }
});

Deno.test("scorecam validates its options", () => {
  const parse = scoreCamExplainer().parseParams;
  assert.deepEqual(parse(undefined), { topChannels: 64, batchSize: 16 });
  assert.throws(
    () => parse({ topChannels: -1 }),
    /scorecam: topChannels must be an integer from 0 to 100000, got -1/,
  );
  assert.throws(
    () => parse({ batchSize: 0.5 }),
    /batchSize must be an integer/,
  );
  assert.throws(
    () => parse({ topchannels: 3 }),
    /Method "scorecam" has no option "topchannels": valid options are "topChannels", "batchSize"/,
  );
  assert.throws(
    () => parse(7),
    /Options of method "scorecam" must be an object/,
  );
});
