/**
 * The body of a render thread (see `render_pool.ts`): renders the PNGs of
 * one map per message with the server's fast PNG settings and sends the
 * bytes back without copying them.
 *
 * @module
 */
import { renderPngs } from "./render.ts";
import type { RenderJob } from "./render_pool.ts";
import { FAST_PNG } from "./zlib.ts";

interface Request {
  id: number;
  job: RenderJob;
}

const port = self as unknown as Worker;

port.onmessage = async (event: MessageEvent<Request>) => {
  const { id, job } = event.data;
  try {
    const pngs = await renderPngs(job.image, job.map, {
      ...job.options,
      ...FAST_PNG,
    });
    const buffers = [pngs.overlay, pngs.heatmap].flatMap((p) =>
      p ? [p.buffer as ArrayBuffer] : []
    );
    port.postMessage({ id, pngs }, buffers);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message ?? String(error) });
  }
};
