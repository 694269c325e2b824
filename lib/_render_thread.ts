/**
 * The body of a render thread (see `render_pool.ts`): renders the PNGs of
 * one map per message as `renderHere` does and sends the bytes back
 * without copying them.
 *
 * @module
 */
import { renderHere, type RenderJob } from "./render_pool.ts";

interface Request {
  id: number;
  job: RenderJob;
}

const port = self as unknown as Worker;
const renderer = renderHere();
/** Jobs done, counted where the pool sees it at once (its first message). */
let finished: Int32Array<ArrayBufferLike> = new Int32Array(1);

port.onmessage = async (
  event: MessageEvent<Request | { finished: Int32Array }>,
) => {
  if ("finished" in event.data) {
    finished = event.data.finished;
    return;
  }
  const { id, job } = event.data;
  try {
    const pngs = await renderer.render(job);
    const buffers = [pngs.overlay, pngs.heatmap].flatMap((p) =>
      p ? [p.buffer as ArrayBuffer] : []
    );
    Atomics.add(finished, 0, 1);
    port.postMessage({ id, pngs }, buffers);
  } catch (error) {
    Atomics.add(finished, 0, 1);
    port.postMessage({ id, error: (error as Error).message ?? String(error) });
  }
};
