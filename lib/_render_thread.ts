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

port.onmessage = async (event: MessageEvent<Request>) => {
  const { id, job } = event.data;
  try {
    const pngs = await renderer.render(job);
    const buffers = [pngs.overlay, pngs.heatmap].flatMap((p) =>
      p ? [p.buffer as ArrayBuffer] : []
    );
    port.postMessage({ id, pngs }, buffers);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message ?? String(error) });
  }
};
