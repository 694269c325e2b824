import assert from "node:assert/strict";
import { readFrames } from "../../workers/frames.ts";

const CHILD = new URL("./_frame_writer_child.ts", import.meta.url).pathname;

function child(mode = "") {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", CHILD, mode],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

type Sent = {
  i?: number;
  png?: Uint8Array;
  map?: Float32Array;
  done?: boolean;
  sendMs?: number;
  handedOver?: boolean[];
};

Deno.test("frames leave in order from the writer's thread: the sender never waits for a slow reader", async () => {
  const process = child();
  // A reader that is late: 1.5 MB of frames do not fit in a 64 KB pipe.
  await new Promise((resolve) => setTimeout(resolve, 400));
  const frames: Sent[] = [];
  for await (const frame of readFrames(process.stdout)) {
    frames.push(frame as Sent);
  }
  assert.equal((await process.status).code, 0);
  assert.deepEqual(frames.slice(0, 5).map((f) => f.i), [0, 1, 2, 3, 4]);
  const pattern = new Uint8Array(300_000).map((_, i) => i % 251);
  for (const frame of frames.slice(0, 5)) {
    assert.deepEqual(frame.png, pattern);
    assert.deepEqual([...frame.map!], [0.5, 1]);
  }
  const done = frames[5];
  assert.equal(done.done, true);
  assert.deepEqual(done.handedOver, [true, true, true, true, true]);
  // Written by the sending thread, the sends would have lasted until the
  // reader began (400 ms).
  assert.ok(done.sendMs! < 200, `sending took ${done.sendMs} ms`);
  assert.equal(frames.length, 6);
});

Deno.test("a writer whose reader has left says so once (the worker then exits)", async () => {
  const process = child("gone");
  const frames = readFrames(process.stdout);
  for (let i = 0; i < 6; i++) await frames.next();
  await frames.return(undefined);
  await process.stdout.cancel().catch(() => {}); // closes the pipe's end
  // onGone exits with 3; a write that failed silently would go on forever.
  const status = await Promise.race([
    process.status,
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000)),
  ]);
  if (status === null) process.kill();
  assert.equal(status?.code, 3);
});
