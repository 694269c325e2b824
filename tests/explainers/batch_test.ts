/** `explainers/_batch.ts`: batches in order, progress, aborts, fairness. */
import assert from "node:assert/strict";
import { inBatches } from "../../explainers/_batch.ts";

const squares = (start: number, end: number) =>
  Promise.resolve(
    Array.from({ length: end - start }, (_, i) => (start + i) ** 2),
  );

Deno.test("inBatches concatenates the batches and reports progress ending with 1", async () => {
  const progress: number[] = [];
  const out = await inBatches({ count: 5, batchSize: 2 }, squares, {
    onProgress: (f) => progress.push(f),
  });
  assert.deepEqual(out, [0, 1, 4, 9, 16]);
  assert.deepEqual(progress, [0.4, 0.8, 1]);
});

Deno.test("inBatches lets timers and I/O run between batches, so a disconnect or time limit is seen", async () => {
  const controller = new AbortController();
  const reason = new Error("client went away");
  // Fires at the next turn of the event loop, as a closed socket would.
  setTimeout(() => controller.abort(reason), 0);
  const ran: number[] = [];
  await assert.rejects(
    () =>
      inBatches({ count: 100, batchSize: 1 }, (start, end) => {
        ran.push(start);
        return squares(start, end); // microtasks only, like a model pass
      }, { signal: controller.signal }),
    (e) => e === reason,
  );
  assert.ok(ran.length >= 1 && ran.length <= 2, `${ran.length} batches ran`);
});
