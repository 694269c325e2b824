/**
 * The body of a render thread (see `render_pool.ts`): claims each queued
 * map in shared memory (the pool's thread may have taken it meanwhile),
 * renders its PNGs as `renderHere` does and sends the bytes back without
 * copying them.
 *
 * @module
 */
import { renderHere, type ThreadMessage } from "./render_pool.ts";

const port = self as unknown as Worker;
const renderer = renderHere();
let claims: Int32Array<ArrayBufferLike> = new Int32Array(1);

const queue: Extract<ThreadMessage, { id: number }>[] = [];
let draining = false;

async function drain(): Promise<void> {
  draining = true;
  for (let message; (message = queue.shift());) {
    const { id, slot, job } = message;
    if (Atomics.compareExchange(claims, slot, id, 0) !== id) continue;
    try {
      const pngs = await renderer.render(job);
      const buffers = [pngs.overlay, pngs.heatmap].flatMap((p) =>
        p ? [p.buffer as ArrayBuffer] : []
      );
      port.postMessage({ id, pngs }, buffers);
    } catch (error) {
      port.postMessage({
        id,
        error: (error as Error).message ?? String(error),
      });
    }
  }
  draining = false;
}

// One map at a time, each answered as soon as it is rendered: a message
// handled while a render's promise chain settles would start the next
// render first, and the finished PNGs would wait for it.
port.onmessage = (event: MessageEvent<ThreadMessage>) => {
  const message = event.data;
  if ("claims" in message) {
    claims = message.claims;
    return;
  }
  queue.push(message);
  if (!draining) void drain();
};
