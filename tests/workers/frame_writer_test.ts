import assert from "node:assert/strict";
import { createFrameWriter } from "../../workers/frame_writer.ts";
import { writerBytes } from "./_frame_writer_parts.ts";

const CHILD = new URL("./_frame_writer_child.ts", import.meta.url).pathname;

function child(ring: number, count: number) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      CHILD,
      String(ring),
      String(count),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

Deno.test("the frame writer's thread writes every byte in order, through a ring smaller than the parts, and flushes before exit", async () => {
  const count = 60;
  const process = child(4096, count);
  const chunks: Uint8Array[] = [];
  // A slow reader: the ring fills and the writer waits for room.
  for await (const chunk of process.stdout) {
    chunks.push(chunk);
    if (chunks.length % 8 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  const { code } = await process.status;
  assert.equal(code, 0);
  const got = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    got.set(c, at);
    at += c.length;
  }
  const want = writerBytes(count);
  assert.equal(got.length, want.length);
  assert.deepEqual(got, want);
});

Deno.test("the frame writer says when stdout's reader is gone, and a writer waiting for room is woken", async () => {
  // 400 messages of up to 70 KB: far more than the pipe and ring hold.
  const process = child(4096, 400);
  const reader = process.stdout.getReader();
  await reader.read();
  await reader.cancel();
  // A writer that never learns of it would wait for room for ever.
  const timer = setTimeout(() => process.kill("SIGKILL"), 10_000);
  const { code } = await process.status;
  clearTimeout(timer);
  assert.equal(code, 3);
});

Deno.test("the frame writer's ring must be a power of two", () => {
  for (const ringBytes of [0, 1000, 2 ** 31]) {
    assert.throws(
      () => createFrameWriter({ ringBytes }),
      /ringBytes must be a power of two/,
    );
  }
});
