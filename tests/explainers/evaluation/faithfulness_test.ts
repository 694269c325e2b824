import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  faithfulness,
  gaussianBlur,
  rankPixels,
  trapezoidAuc,
} from "../../../explainers/evaluation/faithfulness.ts";
import { assertClose } from "../_synthetic.ts";
import { naiveSoftmax, tiny, tinyInput } from "../_tiny.ts";

/** A 2-D Gaussian blur, plain loops, edges clamped. */
function naiveBlur(x: Float32Array, w: number, h: number, sigma: number) {
  const r = Math.ceil(3 * sigma);
  const k: number[] = [];
  for (let i = -r; i <= r; i++) k.push(Math.exp(-(i * i) / (2 * sigma ** 2)));
  const total = k.reduce((s, v) => s + v, 0);
  const out = new Float32Array(x.length);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          for (let j = -r; j <= r; j++) {
            const v = x[(clamp(y + i, h) * w + clamp(xx + j, w)) * 3 + c];
            s += (k[i + r] / total) * (k[j + r] / total) * v;
          }
        }
        out[(y * w + xx) * 3 + c] = s;
      }
    }
  }
  return out;
}

Deno.test("gaussianBlur equals a 2-D Gaussian convolution with clamped edges", () => {
  const x = new Float32Array(7 * 5 * 3).map((_, i) => Math.sin(i));
  assertClose(
    gaussianBlur({ width: 7, height: 5, data: x }, 1.2),
    naiveBlur(x, 7, 5, 1.2),
    1e-5,
  );
});

Deno.test("rankPixels orders by map value, ties by index; trapezoidAuc integrates", () => {
  const map = {
    width: 2,
    height: 2,
    values: new Float32Array([0.5, 1, 0.5, 0]),
  };
  assert.deepEqual([...rankPixels(map, { width: 2, height: 2 })], [1, 0, 2, 3]);
  assert.equal(trapezoidAuc([1, 1, 1]), 1);
  assert.equal(trapezoidAuc([0, 1]), 0.5);
});

for (const baseline of ["mean", "blur"] as const) {
  Deno.test(`faithfulness (${baseline} baseline) equals its formulas, one forward pass at a time`, async () => {
    const runtime = await tiny();
    const classIndex = 4;
    const steps = 5;
    // A 32×32 map with ties: the ranking must break them by pixel index.
    const values = new Float32Array(32 * 32).map((_, i) =>
      Math.round(5 * Math.abs(Math.sin(i * 0.37)))
    );
    const map = { width: 32, height: 32, values };
    const B = baseline === "mean"
      ? new Float32Array(tinyInput.length)
      : naiveBlur(tinyInput, 32, 32, 5 * 32 / 224);
    const order = [...values.keys()].sort((i, j) =>
      values[j] - values[i] || i - j
    );
    const p = async (x: Float32Array) =>
      naiveSoftmax((await runtime.logits([x]))[0])[classIndex];
    const mix = (top: Float32Array, rest: Float32Array, n: number) => {
      const out = rest.slice();
      for (const pixel of order.slice(0, n)) {
        for (let c = 0; c < 3; c++) out[pixel * 3 + c] = top[pixel * 3 + c];
      }
      return out;
    };
    const deletion: number[] = [];
    const insertion: number[] = [];
    for (let s = 0; s <= steps; s++) {
      const n = Math.round(s * 1024 / steps);
      deletion.push(await p(mix(B, tinyInput, n)));
      insertion.push(await p(mix(tinyInput, B, n)));
    }
    const auc = (c: number[]) => {
      let sum = 0;
      for (let s = 0; s < steps; s++) sum += (c[s] + c[s + 1]) / 2 / steps;
      return sum;
    };
    const keep = await p(mix(tinyInput, B, Math.round(0.2 * 1024)));
    const px = await p(tinyInput);

    const before = tf.memory().numTensors;
    const items = runtime.counters.batchItems;
    const scores = await faithfulness(runtime, {
      input: tinyInput,
      classIndex,
      map,
      steps,
      baseline,
      batchSize: 3,
    });
    assert.equal(tf.memory().numTensors, before);
    // x, B, 4 + 4 intermediate images; keeping the top 20 % is insertion step 1.
    assert.equal(runtime.counters.batchItems - items, 10);
    assertClose(scores.deletionCurve, deletion, 1e-6);
    assertClose(scores.insertionCurve, insertion, 1e-6);
    assert.ok(Math.abs(scores.deletionAuc - auc(deletion)) < 1e-6);
    assert.ok(Math.abs(scores.insertionAuc - auc(insertion)) < 1e-6);
    assert.ok(Math.abs(scores.probability - px) < 1e-6);
    assert.ok(Math.abs(scores.keepTopProbability - keep) < 1e-6);
    assert.ok(
      Math.abs(scores.keepTopDrop - Math.max(0, px - keep) / px) < 1e-6,
    );
  });
}

Deno.test("faithfulness upsamples a coarse map and checks its options", async () => {
  const runtime = await tiny();
  const map = {
    width: 4,
    height: 4,
    values: new Float32Array(16).map((_, i) => i),
  };
  const scores = await faithfulness(runtime, {
    input: tinyInput,
    classIndex: 0,
    map,
    steps: 2,
  });
  assert.equal(scores.deletionCurve.length, 3);
  assert.equal(scores.deletionCurve[0], scores.insertionCurve[2]);
  assert.equal(scores.deletionCurve[2], scores.insertionCurve[0]);
  await assert.rejects(
    () =>
      faithfulness(runtime, { input: tinyInput, classIndex: 0, map, steps: 0 }),
    /steps must be a positive integer, got 0/,
  );
  await assert.rejects(
    () => faithfulness(runtime, { input: tinyInput, classIndex: 99, map }),
    /classIndex must be an integer from 0 to 9, got 99/,
  );
});
