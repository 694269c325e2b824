import assert from "node:assert/strict";
import { progressTracker } from "../../web/client/progress.ts";

Deno.test("progressTracker: the time left from the rate since the first event", () => {
  const tracker = progressTracker();
  assert.deepEqual(tracker.update(0, 1000), { fraction: 0, secondsLeft: null });
  assert.deepEqual(tracker.update(0.25, 3000), {
    fraction: 0.25,
    secondsLeft: 6,
  });
  // Faster since: the average rate counts, 0.75 in 4 s.
  assert.deepEqual(tracker.update(0.75, 5000), {
    fraction: 0.75,
    secondsLeft: 4 / 3,
  });
  assert.deepEqual(tracker.update(1, 5500), { fraction: 1, secondsLeft: 0 });
});

Deno.test("progressTracker: no estimate without progress or time", () => {
  const tracker = progressTracker();
  tracker.update(0.5, 1000);
  assert.equal(tracker.update(0.5, 2000).secondsLeft, null);
  assert.equal(progressTracker().update(0.3, 0).secondsLeft, null);
});
