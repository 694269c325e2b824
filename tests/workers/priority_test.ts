/**
 * `workers/priority.ts` with the batching loop long methods really use
 * (`inBatches`): while a cheap call runs, an expensive call pauses at its
 * next batch boundary and goes on once no cheap call is left.
 */
import assert from "node:assert/strict";
import { inBatches } from "../../explainers/_batch.ts";
import { createPriorityGate } from "../../workers/priority.ts";

/** An expensive call of `batches` batches, each logged and held by `hold`. */
function heavy(
  log: string[],
  batches: number,
  hold: (batch: number) => Promise<void>,
) {
  return (pause?: () => Promise<void>) =>
    inBatches({ count: batches, batchSize: 1 }, async (start, end) => {
      log.push(`heavy ${start} start`);
      await hold(start);
      log.push(`heavy ${start} end`);
      return Array.from({ length: end - start }, () => start);
    }, pause ? { pause } : {});
}

Deno.test("an expensive call pauses at its next batch boundary while cheap calls run", async () => {
  const gate = createPriorityGate();
  const log: string[] = [];
  const batch1 = Promise.withResolvers<void>();
  const batch1Started = Promise.withResolvers<void>();
  const cheapDone = Promise.withResolvers<void>();
  const expensive = gate.run(
    "heavy",
    heavy(log, 4, (batch) => {
      if (batch !== 1) return Promise.resolve();
      batch1Started.resolve();
      return batch1.promise;
    }),
  );
  await batch1Started.promise;
  // Two cheap calls arrive while batch 1 runs: it is not interrupted.
  const cheap = [1, 2].map((n) =>
    gate.run("light", async () => {
      log.push(`light ${n} start`);
      if (n === 2) await cheapDone.promise;
      log.push(`light ${n} end`);
    })
  );
  await cheap[0];
  batch1.resolve();
  // Batch 1 ends; batch 2 waits for the cheap call still running. Were it
  // not held, one turn of the event loop (inBatches' 0 ms timer, queued
  // before this one) would start it.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(log.at(-1), "heavy 1 end");
  assert.equal(gate.light, 1);
  cheapDone.resolve();
  await Promise.all(cheap);
  assert.deepEqual(await expensive, [0, 1, 2, 3]);
  assert.equal(gate.light, 0);
  assert.deepEqual(log, [
    "heavy 0 start",
    "heavy 0 end",
    "heavy 1 start",
    "light 1 start",
    "light 1 end",
    "light 2 start",
    "heavy 1 end",
    "light 2 end",
    "heavy 2 start",
    "heavy 2 end",
    "heavy 3 start",
    "heavy 3 end",
  ]);
});

Deno.test("with no cheap call, expensive calls never pause; cheap calls never wait", async () => {
  const gate = createPriorityGate();
  const log: string[] = [];
  // Two expensive calls side by side do not hold each other up.
  const [a, b] = await Promise.all([
    gate.run("heavy", heavy(log, 3, () => Promise.resolve())),
    gate.run("heavy", heavy(log, 3, () => Promise.resolve())),
  ]);
  assert.deepEqual([a, b], [[0, 1, 2], [0, 1, 2]]);
  assert.equal(log.length, 12);
  // A cheap call gets no pause hook: it runs straight through.
  let given: unknown = "unset";
  await gate.run("light", (pause) => {
    given = pause;
    return Promise.resolve();
  });
  assert.equal(given, undefined);
});
