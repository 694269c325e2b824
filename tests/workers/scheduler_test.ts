import assert from "node:assert/strict";
import {
  createScheduler,
  QueueFullError,
  untilAborted,
} from "../../workers/scheduler.ts";

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

const CHEAP = 1;
const HEAVY = 169;

Deno.test("each slot runs one task per lane; the rest wait in order", async () => {
  const log: string[] = [];
  const scheduler = createScheduler({ slots: 2, maxQueued: 10 });
  const tasks = ["a", "b", "c", "d"].map((n) => gated(log, n));
  const results = tasks.map((t) => scheduler.run(HEAVY, t.task));
  await Promise.resolve();
  assert.deepEqual(log, ["start a", "start b"]);
  assert.equal(scheduler.running("heavy"), 2);
  assert.equal(scheduler.queued("heavy"), 2);
  tasks[1].open();
  assert.equal(await results[1], "b");
  // The slot is free before the caller hears of the result.
  assert.equal(scheduler.running(), 2);
  assert.deepEqual(log, ["start a", "start b", "end b", "start c"]);
  for (const t of tasks) t.open();
  assert.deepEqual(await Promise.all(results), ["a", "b", "c", "d"]);
  assert.deepEqual(scheduler.stats, {
    started: 4,
    finished: 4,
    rejected: 0,
    dropped: 0,
  });
});

Deno.test("a cheap task never waits behind expensive ones, nor takes their place", async () => {
  const log: string[] = [];
  const scheduler = createScheduler({ slots: 1, maxQueued: 8, lightCost: 8 });
  assert.equal(scheduler.laneOf(8), "light");
  assert.equal(scheduler.laneOf(9), "heavy");
  const heavy = Array.from({ length: 8 }, (_, i) => gated(log, `h${i}`));
  const running = heavy.map((h) => scheduler.run(HEAVY, h.task));
  await Promise.resolve();
  assert.equal(scheduler.running("heavy"), 1);
  assert.equal(scheduler.queued("heavy"), 7);
  // The cheap one starts at once, beside the expensive one.
  assert.equal(await scheduler.run(CHEAP, () => "cheap"), "cheap");
  // A second cheap one while the first holds the light place: it waits in
  // its own lane, not behind the seven expensive ones.
  const light = gated(log, "l1");
  const first = scheduler.run(CHEAP, light.task);
  const second = scheduler.run(CHEAP, () => Promise.resolve("l2"));
  await Promise.resolve();
  assert.equal(scheduler.queued("light"), 1);
  light.open();
  assert.deepEqual(await Promise.all([first, second]), ["l1", "l2"]);
  assert.equal(scheduler.queued("heavy"), 7);
  // Cheap work never borrows the expensive lane's place.
  assert.equal(scheduler.running("heavy"), 1);
  for (const h of heavy) h.open();
  await Promise.all(running);
});

Deno.test("a full lane refuses at once with QueueFullError; the other lane does not", async () => {
  const log: string[] = [];
  const scheduler = createScheduler({ slots: 1, maxQueued: 1 });
  const running = gated(log, "running");
  const waiting = gated(log, "waiting");
  const first = scheduler.run(HEAVY, running.task);
  const second = scheduler.run(HEAVY, waiting.task);
  assert.equal(scheduler.full(HEAVY), true);
  assert.equal(scheduler.full(CHEAP), false);
  await assert.rejects(
    scheduler.run(HEAVY, () => "never"),
    (error: unknown) => {
      assert.ok(error instanceof QueueFullError);
      assert.equal(error.lane, "heavy");
      assert.equal(error.maxQueued, 1);
      assert.match(error.message, /1 heavy tasks are waiting/);
      return true;
    },
  );
  assert.equal(scheduler.stats.rejected, 1);
  assert.equal(await scheduler.run(CHEAP, () => "cheap"), "cheap");
  running.open();
  waiting.open();
  assert.deepEqual(await Promise.all([first, second]), ["running", "waiting"]);
  assert.equal(scheduler.full(HEAVY), false);
});

Deno.test("maxQueued 0 runs only when its lane has a free place", async () => {
  const scheduler = createScheduler({ slots: 1, maxQueued: 0 });
  const gate = gated([], "a");
  const first = scheduler.run(CHEAP, gate.task);
  await assert.rejects(scheduler.run(CHEAP, () => 1), QueueFullError);
  gate.open();
  await first;
  assert.equal(await scheduler.run(CHEAP, () => 2), 2);
});

Deno.test("an aborted waiting task leaves the queue without running", async () => {
  const log: string[] = [];
  const scheduler = createScheduler({ slots: 1, maxQueued: 4 });
  const running = gated(log, "running");
  const first = scheduler.run(CHEAP, running.task);
  const controller = new AbortController();
  let ran = false;
  const dropped = scheduler.run(CHEAP, () => {
    ran = true;
    return Promise.resolve();
  }, { signal: controller.signal });
  const last = scheduler.run(CHEAP, () => Promise.resolve("last"));
  assert.equal(scheduler.queued(), 2);
  controller.abort(new Error("client gone"));
  await assert.rejects(dropped, /client gone/);
  assert.equal(scheduler.queued(), 1);
  assert.equal(scheduler.stats.dropped, 1);
  running.open();
  await first;
  assert.equal(await last, "last");
  assert.equal(ran, false);
  // A signal aborted before submission never enqueues.
  await assert.rejects(
    scheduler.run(CHEAP, () => 1, {
      signal: AbortSignal.abort(new Error("late")),
    }),
    /late/,
  );
  assert.equal(scheduler.stats.started, 2);
});

Deno.test("a running task sees its signal and keeps its place until it settles", async () => {
  const scheduler = createScheduler();
  const controller = new AbortController();
  const stop = Promise.withResolvers<void>();
  const task = scheduler.run(
    CHEAP,
    (_slot, signal) =>
      new Promise((_, reject) =>
        signal.addEventListener("abort", () => {
          // Stops a while after the abort, like a batch that must finish.
          stop.promise.then(() => reject(signal.reason));
        })
      ),
    { signal: controller.signal },
  );
  // The caller can stop waiting at once…
  const caller = untilAborted(task, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(caller, /stop/);
  // …but the place is held until the work has stopped.
  assert.equal(scheduler.running(), 1);
  stop.resolve();
  await assert.rejects(task, /stop/);
  assert.equal(scheduler.running(), 0);
  await assert.rejects(
    scheduler.run(CHEAP, () => {
      throw new Error("sync failure");
    }),
    /sync failure/,
  );
  assert.equal(await scheduler.run(CHEAP, () => "next"), "next");
});

Deno.test("onStart reports the lane and wait; idle() waits for everything", async () => {
  let clock = 0;
  const waits: [string, number][] = [];
  const scheduler = createScheduler({
    now: () => clock,
    onStart: (lane, ms) => waits.push([lane, ms]),
  });
  const gate = gated([], "a");
  const first = scheduler.run(CHEAP, gate.task);
  const second = scheduler.run(CHEAP, () => Promise.resolve());
  let idle = false;
  const whenIdle = scheduler.idle().then(() => idle = true);
  clock = 250;
  gate.open();
  await Promise.all([first, second]);
  await whenIdle;
  assert.equal(idle, true);
  assert.deepEqual(waits, [["light", 0], ["light", 250]]);
  await scheduler.idle(); // resolves at once when idle
});

Deno.test("bad sizes are refused", () => {
  assert.throws(() => createScheduler({ slots: 0 }), /slots 0/);
  assert.throws(() => createScheduler({ maxQueued: -1 }), /maxQueued -1/);
  assert.throws(() => createScheduler({ slots: 1.5 }), RangeError);
});
