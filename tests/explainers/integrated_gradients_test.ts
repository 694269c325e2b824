import assert from "node:assert/strict";
import { integratedGradientsExplainer } from "../../explainers/integrated_gradients.ts";
import { assertClose } from "./_synthetic.ts";
import { tinyContext } from "./_tiny.ts";

Deno.test("integratedgradients equals the midpoint-rule formula, one gradient at a time", async () => {
  const ctx = await tinyContext("b_out", 1);
  const steps = 6;
  const x = ctx.input;
  // The preprocessed black image: the tiny model scales to [-1, 1].
  const black = new Float32Array(x.length).fill(-1);
  const gradSum = new Array(x.length).fill(0);
  for (let i = 0; i < steps; i++) {
    const alpha = (i + 0.5) / steps;
    const point = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) {
      point[j] = black[j] + alpha * (x[j] - black[j]);
    }
    const { gradients } = await ctx.runtime.inputGradients([point], 1);
    for (let j = 0; j < x.length; j++) gradSum[j] += gradients[0][j];
  }
  const expected: number[] = [];
  for (let p = 0; p < 32 * 32; p++) {
    let sum = 0;
    for (let c = 0; c < 3; c++) {
      const j = p * 3 + c;
      sum += (x[j] - black[j]) * gradSum[j] / steps;
    }
    expected.push(sum);
  }
  const map = await integratedGradientsExplainer().explain(ctx, {
    steps,
    batchSize: 4,
  });
  assert.equal(map.width, 32);
  assertClose(map.values, expected);
  const total = expected.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(map.details!.attributionSum - total) < 1e-3);
});

Deno.test("integratedgradients is complete within 2 % at 64 steps", async () => {
  for (const classIndex of [0, 1, 5]) {
    const ctx = await tinyContext("b_out", classIndex);
    const map = await integratedGradientsExplainer().explain(ctx, {
      steps: 64,
      batchSize: 32,
    });
    const [black] = await ctx.runtime.logits([
      new Float32Array(ctx.input.length).fill(-1),
    ]);
    const difference = ctx.pass.logits[classIndex] - black[classIndex];
    const sum = map.values.reduce((s, v) => s + v, 0);
    const error = Math.abs(sum - difference) / Math.abs(difference);
    assert.ok(
      error < 0.02,
      `class ${classIndex}: Σ ${sum} vs Δy ${difference}`,
    );
    assert.ok(Math.abs(map.details!.completenessError - error) < 1e-4);
    assert.ok(Math.abs(map.details!.logitDifference - difference) < 1e-4);
  }
});

Deno.test("integratedgradients' completeness error shrinks as steps grows (4, 16, 64)", async () => {
  const means = [0, 0, 0];
  const classes = [0, 1, 5, 7];
  for (const classIndex of classes) {
    const ctx = await tinyContext("b_out", classIndex);
    const errors: number[] = [];
    for (const steps of [4, 16, 64]) {
      const map = await integratedGradientsExplainer().explain(ctx, {
        steps,
        batchSize: 32,
      });
      errors.push(map.details!.completenessError);
    }
    errors.forEach((e, i) => means[i] += e / classes.length);
    // The midpoint rule on a piecewise-linear path (ReLU kinks) need not
    // improve at every step count, but over 4× more steps it does here, for
    // every class; at 64 steps it is within 0.2 %.
    assert.ok(
      errors[0] > errors[1] && errors[1] > errors[2],
      `class ${classIndex}: ${errors.join(", ")}`,
    );
    assert.ok(errors[2] < 2e-3, `class ${classIndex}: ${errors[2]}`);
  }
  assert.ok(means[2] < means[0] / 10, means.join(", "));
});
