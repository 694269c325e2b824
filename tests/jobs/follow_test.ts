import assert from "node:assert/strict";
import { type Change, followJob } from "../../jobs/_follow.ts";
import type { Job } from "../../jobs/mod.ts";

function job(patch: Partial<Job<number>>): Job<number> {
  return {
    id: "AAAAAAAAAAAAAAAAAAAAAA",
    state: "running",
    progress: 0,
    createdAt: 1,
    startedAt: 2,
    finishedAt: null,
    error: null,
    errorCode: null,
    result: null,
    attempts: 1,
    labels: [],
    ...patch,
  };
}

Deno.test("followJob coalesces: a slow reader gets the latest progress, never a lower one", async () => {
  let stored = job({ progress: 0.5 });
  let notify: (change: Change) => void = () => {};
  const updates = followJob<number>({
    load: () => Promise.resolve(stored),
    watch(onChange) {
      notify = onChange;
      return () => notify = () => {};
    },
  });
  assert.equal((await updates.next()).value?.progress, 0.5);
  for (const progress of [0.6, 0.7, 0.8]) notify({ progress });
  assert.equal((await updates.next()).value?.progress, 0.8);
  // A read that lags behind what was already shown is lifted to it.
  stored = job({ progress: 0.7 });
  notify(null);
  notify({ progress: 0.9 });
  assert.equal((await updates.next()).value?.progress, 0.9);
  stored = job({ state: "succeeded", progress: 1, result: 7, finishedAt: 3 });
  notify(null);
  assert.equal((await updates.next()).value?.result, 7);
  assert.deepEqual(await updates.next(), { done: true, value: undefined });
});

Deno.test("followJob releases its watch after the final state and on return()", async () => {
  let watching = 0;
  const make = (state: Job<number>["state"]) =>
    followJob<number>({
      load: () => Promise.resolve(job({ state })),
      watch() {
        watching++;
        return () => watching--;
      },
    });
  const done = make("failed");
  assert.equal((await done.next()).value?.state, "failed");
  assert.equal(watching, 0);
  const open = make("queued");
  await open.next();
  assert.equal(watching, 1);
  await open.return!();
  assert.equal(watching, 0);
});
