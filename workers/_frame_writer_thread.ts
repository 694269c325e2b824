/**
 * The writer thread of `frame_writer.ts`: writes the ring's bytes to stdout
 * as they are given, sleeping on the control array in between (no event
 * loop needed once started).
 *
 * @module
 */

const WRITTEN = 0;
const READ = 1;
const FAILED = 2;

const port = self as unknown as Worker;

port.onmessage = (event: MessageEvent) => {
  const { ring, control } = event.data as {
    ring: SharedArrayBuffer;
    control: SharedArrayBuffer;
  };
  const bytes = new Uint8Array(ring);
  const ctrl = new Int32Array(control);
  const size = bytes.length;
  let read = 0;
  for (;;) {
    const written = Atomics.load(ctrl, WRITTEN);
    if (written === read) {
      Atomics.wait(ctrl, WRITTEN, written);
      continue;
    }
    const start = (read >>> 0) % size;
    const n = Math.min((written - read) | 0, size - start);
    let done: number;
    try {
      done = Deno.stdout.writeSync(bytes.subarray(start, start + n));
    } catch {
      // The reader is gone: say so, and wake a writer waiting for room.
      Atomics.store(ctrl, FAILED, 1);
      Atomics.notify(ctrl, READ);
      return;
    }
    read = (read + done) | 0;
    Atomics.store(ctrl, READ, read);
    Atomics.notify(ctrl, READ);
  }
};
