import assert from "node:assert/strict";
import {
  alternate,
  percentile,
  summarize,
} from "../../../tools/bench/stats.ts";

Deno.test("summarize gives the median of odd and even counts, min, max and n", () => {
  assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.deepEqual(summarize([3, 1, 2, 10]), {
    median: 2.5,
    min: 1,
    max: 10,
    n: 4,
  });
  assert.equal(summarize([]), null);
});

Deno.test("summarize and percentile leave their input unsorted", () => {
  const samples = [5, 1, 4, 2, 3];
  summarize(samples);
  assert.equal(percentile(samples, 0.95), 5);
  assert.equal(percentile(samples, 0), 1);
  assert.deepEqual(samples, [5, 1, 4, 2, 3]);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});

Deno.test("alternate runs contenders in turns, warm-up first with negative indices", async () => {
  const calls: string[] = [];
  const samples = await alternate({
    a: (i) => Promise.resolve(calls.push(`a${i}`)),
    b: (i) => Promise.resolve(calls.push(`b${i}`)),
  }, { runs: 2, warmUp: 1 });
  assert.deepEqual(calls, ["a-1", "b-1", "a0", "b0", "a1", "b1"]);
  assert.equal(samples.a.length, 2);
  assert.equal(samples.b.length, 2);
  assert.ok(samples.a.every((ms) => ms >= 0));
});

Deno.test("alternate idles gapMs before each timed run", async () => {
  const starts: number[] = [];
  const samples = await alternate({
    a: () => Promise.resolve(starts.push(performance.now())),
  }, { runs: 3, warmUp: 0, gapMs: 30 });
  assert.equal(samples.a.length, 3);
  // Timer resolution and a busy machine make gaps longer, never shorter.
  for (let i = 1; i < starts.length; i++) {
    assert.ok(starts[i] - starts[i - 1] >= 29, `gap ${i}`);
  }
});
