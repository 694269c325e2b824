import assert from "node:assert/strict";
import {
  camExplainer,
  channelOf,
  elementwiseSum,
  noParams,
  strongestChannels,
  weightedSum,
} from "../../explainers/cam.ts";
import { syntheticContext } from "./_synthetic.ts";

const a = {
  height: 1,
  width: 2,
  channels: 3,
  data: new Float32Array([1, 5, 3, 2, 5, 0]),
};

Deno.test("weightedSum and elementwiseSum sum over channels", () => {
  assert.deepEqual(
    [...weightedSum(a, new Float32Array([1, 0, 2])).values],
    [7, 2],
  );
  assert.deepEqual(
    [...elementwiseSum(a, new Float32Array([1, 0, 0, 0, 1, 1])).values],
    [1, 5],
  );
  assert.throws(
    () => elementwiseSum(a, new Float32Array(3)),
    /Element weights have 3 values, expected 6/,
  );
});

Deno.test("channelOf and strongestChannels read channels by mean activation", () => {
  assert.deepEqual([...channelOf(a, 1)], [5, 5]);
  // Means: 1.5, 5, 1.5 — ties keep the lower index first.
  assert.deepEqual(strongestChannels(a, 2), [1, 0]);
  assert.deepEqual(strongestChannels(a, 0), [0, 1, 2]);
  assert.deepEqual(strongestChannels(a, 9), [0, 1, 2]);
});

Deno.test("camExplainer accepts channel weights (sync or async), element weights or a map", async () => {
  const ctx = syntheticContext(2, 2, 3);
  const base = { description: "test", needsGradients: false };
  const ones = new Float32Array(3).fill(1);
  const sync = camExplainer({ ...base, name: "s", weights: () => ones });
  const later = camExplainer({
    ...base,
    name: "l",
    weights: () => Promise.resolve(ones),
  });
  const element = camExplainer({
    ...base,
    name: "e",
    elementWeights: (act) => new Float32Array(act.data.length).fill(1),
  });
  const whole = camExplainer({
    ...base,
    name: "m",
    map: (act) => weightedSum(act, ones),
  });
  const expected = weightedSum(ctx.pass.activations!, ones);
  assert.ok(!((sync.explain(ctx, {})) instanceof Promise));
  for (const e of [sync, later, element, whole]) {
    assert.deepEqual(await e.explain(ctx, {}), expected);
    assert.equal(e.resolution, "layer");
  }
});

Deno.test("camExplainer passes parsed options to the weights", async () => {
  const ctx = syntheticContext(2, 2, 3);
  const scaled = camExplainer<{ factor: number }>({
    name: "scaled",
    description: "test",
    needsGradients: false,
    parseParams: (raw) => ({ factor: (raw as { factor: number }).factor }),
    weights: (act, _g, _ctx, { factor }) =>
      new Float32Array(act.channels).fill(factor),
  });
  const map = await scaled.explain(ctx, scaled.parseParams({ factor: 2 }));
  const ones = weightedSum(ctx.pass.activations!, new Float32Array(3).fill(1));
  map.values.forEach((v, i) =>
    assert.ok(Math.abs(v - 2 * ones.values[i]) < 1e-6)
  );
});

Deno.test("camExplainer names what the pass lacks", () => {
  const ctx = syntheticContext(2, 2, 3);
  const needy = camExplainer({
    name: "needy",
    description: "test",
    needsGradients: true,
    weights: (_a, g) => g!.data.slice(0, 3),
  });
  assert.throws(
    () => needy.explain({ ...ctx, pass: { ...ctx.pass, gradients: null } }, {}),
    /needy: the pass has no gradients/,
  );
  assert.throws(
    () =>
      needy.explain({ ...ctx, pass: { ...ctx.pass, activations: null } }, {}),
    /needy: the pass has no activations/,
  );
  assert.throws(() => noParams("needy")({ x: 1 }), /takes no options/);
});
