/**
 * A process that sends frames with a thread frame writer (for
 * frame_writer_test.ts): five 300 KB "PNGs" handed over, then how long the
 * sending took; with "gone", then keeps sending until its reader has left.
 */
import { threadFrameWriter } from "../../workers/frame_writer.ts";

const writer = threadFrameWriter({ onGone: () => Deno.exit(3) });
const pattern = new Uint8Array(300_000).map((_, i) => i % 251);
const map = new Float32Array([0.5, 1]);
const start = performance.now();
const handedOver: boolean[] = [];
for (let i = 0; i < 5; i++) {
  const png = pattern.slice();
  writer.send({ i, png, map }, [png.buffer]);
  handedOver.push(png.byteLength === 0); // moved, not copied
}
map[0] = 9; // the map was copied: the frames still carry 0.5
writer.send({ done: true, sendMs: performance.now() - start, handedOver });
await writer.flush();
if (Deno.args[0] === "gone") {
  for (;;) {
    writer.send({ more: new Uint8Array(100_000) });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
Deno.exit(0);
