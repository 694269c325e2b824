import assert from "node:assert/strict";
import { progressReporter } from "../../jobs/_progress.ts";

Deno.test("progressReporter sends rising values in [0, 1] only", async () => {
  const sent: number[] = [];
  const progress = progressReporter((p) => void sent.push(p));
  for (const p of [0.1, 0.05, 0.1, NaN, 0.3, 2, 0.9]) progress.report(p);
  await progress.end();
  assert.deepEqual(sent, [0.1, 0.3, 1]);
});

Deno.test("progressReporter starts above its floor (a retried job keeps its progress)", async () => {
  const sent: number[] = [];
  const progress = progressReporter((p) => void sent.push(p), { floor: 0.5 });
  progress.report(0.2);
  progress.report(0.6);
  await progress.end();
  assert.deepEqual(sent, [0.6]);
});

Deno.test("progressReporter throttles, always delivers the last value, and drops reports after end", async () => {
  const sent: number[] = [];
  const progress = progressReporter((p) => void sent.push(p), {
    intervalMs: 60_000,
  });
  for (let i = 1; i <= 100; i++) progress.report(i / 100);
  await progress.end();
  // The first goes out at once; the rest wait for the interval, and end()
  // sends the latest of them.
  assert.deepEqual(sent, [0.01, 1]);
  progress.report(1);
  await progress.end();
  assert.deepEqual(sent, [0.01, 1]);
});

Deno.test("progressReporter keeps sends in order and survives a failing send", async () => {
  const sent: number[] = [];
  const errors: unknown[] = [];
  const progress = progressReporter(async (p) => {
    await new Promise((resolve) => setTimeout(resolve, p === 0.1 ? 20 : 0));
    if (p === 0.2) throw new Error("Redis away");
    sent.push(p);
  }, { onError: (error) => errors.push(error) });
  progress.report(0.1);
  progress.report(0.2);
  progress.report(0.3);
  await progress.end();
  assert.deepEqual(sent, [0.1, 0.3]);
  assert.equal(errors.length, 1);
});
