import assert from "node:assert/strict";
import { createWorkQueue, QueueFullError } from "../../models/mod.ts";

/** A task that runs until `open()` is called, recording that it ran. */
function gated(log: string[], name: string) {
  const gate = Promise.withResolvers<void>();
  return {
    open: () => gate.resolve(),
    task: async () => {
      log.push(`start ${name}`);
      await gate.promise;
      log.push(`end ${name}`);
      return name;
    },
  };
}

Deno.test("runs at most `concurrency` tasks, the rest in order", async () => {
  const log: string[] = [];
  const queue = createWorkQueue({ concurrency: 2, maxQueued: 10 });
  const tasks = ["a", "b", "c", "d"].map((n) => gated(log, n));
  const results = tasks.map((t) => queue.run(t.task));
  await Promise.resolve();
  assert.deepEqual(log, ["start a", "start b"]);
  assert.equal(queue.running, 2);
  assert.equal(queue.queued, 2);
  tasks[1].open();
  assert.equal(await results[1], "b");
  // The slot is free before the caller hears of the result.
  assert.equal(queue.running, 2);
  assert.deepEqual(log, ["start a", "start b", "end b", "start c"]);
  for (const t of tasks) t.open();
  assert.deepEqual(await Promise.all(results), ["a", "b", "c", "d"]);
  assert.deepEqual(queue.stats, {
    started: 4,
    finished: 4,
    rejected: 0,
    dropped: 0,
  });
});

Deno.test("a full queue refuses at once with QueueFullError", async () => {
  const log: string[] = [];
  const queue = createWorkQueue({ concurrency: 1, maxQueued: 1 });
  const running = gated(log, "running");
  const waiting = gated(log, "waiting");
  const first = queue.run(running.task);
  const second = queue.run(waiting.task);
  assert.equal(queue.full, true);
  await assert.rejects(queue.run(() => "never"), (error: unknown) => {
    assert.ok(error instanceof QueueFullError);
    assert.equal(error.maxQueued, 1);
    assert.match(error.message, /1 tasks are waiting/);
    return true;
  });
  assert.equal(queue.stats.rejected, 1);
  running.open();
  waiting.open();
  assert.deepEqual(await Promise.all([first, second]), ["running", "waiting"]);
  assert.equal(queue.full, false);
});

Deno.test("maxQueued 0 runs only when a slot is free", async () => {
  const queue = createWorkQueue({ concurrency: 1, maxQueued: 0 });
  const gate = gated([], "a");
  const first = queue.run(gate.task);
  await assert.rejects(queue.run(() => 1), QueueFullError);
  gate.open();
  await first;
  assert.equal(await queue.run(() => 2), 2);
});

Deno.test("an aborted waiting task leaves the queue without running", async () => {
  const log: string[] = [];
  const queue = createWorkQueue({ concurrency: 1, maxQueued: 4 });
  const running = gated(log, "running");
  const first = queue.run(running.task);
  const controller = new AbortController();
  let ran = false;
  const dropped = queue.run(() => {
    ran = true;
    return Promise.resolve();
  }, { signal: controller.signal });
  const last = queue.run(() => Promise.resolve("last"));
  assert.equal(queue.queued, 2);
  controller.abort(new Error("client gone"));
  await assert.rejects(dropped, /client gone/);
  assert.equal(queue.queued, 1);
  assert.equal(queue.stats.dropped, 1);
  running.open();
  await first;
  assert.equal(await last, "last");
  assert.equal(ran, false);
  // A signal aborted before submission never enqueues.
  await assert.rejects(
    queue.run(() => 1, { signal: AbortSignal.abort(new Error("late")) }),
    /late/,
  );
  assert.equal(queue.stats.started, 2);
});

Deno.test("a running task sees its signal; failures free the slot", async () => {
  const queue = createWorkQueue();
  const controller = new AbortController();
  const seen = queue.run(
    (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      ),
    { signal: controller.signal },
  );
  controller.abort(new Error("stop"));
  await assert.rejects(seen, /stop/);
  await assert.rejects(
    queue.run(() => {
      throw new Error("sync failure");
    }),
    /sync failure/,
  );
  assert.equal(queue.running, 0);
  assert.equal(await queue.run(() => "next"), "next");
});

Deno.test("onStart reports the wait; idle() waits for everything", async () => {
  let clock = 0;
  const waits: number[] = [];
  const queue = createWorkQueue({
    now: () => clock,
    onStart: (ms) => waits.push(ms),
  });
  const gate = gated([], "a");
  const first = queue.run(gate.task);
  const second = queue.run(() => Promise.resolve());
  let idle = false;
  const whenIdle = queue.idle().then(() => idle = true);
  clock = 250;
  gate.open();
  await Promise.all([first, second]);
  await whenIdle;
  assert.equal(idle, true);
  assert.deepEqual(waits, [0, 250]);
  await queue.idle(); // resolves at once when idle
});

Deno.test("bad sizes are refused", () => {
  assert.throws(() => createWorkQueue({ concurrency: 0 }), /concurrency 0/);
  assert.throws(() => createWorkQueue({ maxQueued: -1 }), /maxQueued -1/);
  assert.throws(() => createWorkQueue({ concurrency: 1.5 }), RangeError);
});
