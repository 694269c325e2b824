/**
 * Rendering many maps of one image on more than one core: a render thread
 * (a Web Worker) takes a map whenever it is idle, and this thread renders
 * the others meanwhile. An explanation of six methods spends most of its
 * time after the model pass encoding six PNGs (about 2.1 ms each for a
 * 451×300 overlay, half of it deflate), so two cores halve that part.
 *
 * @module
 */
import type { MapGrid } from "./heatmap.ts";
import type { RgbImage } from "./image.ts";
import { type RenderedPngs, type RenderOptions, renderPngs } from "./render.ts";
import { FAST_PNG } from "./zlib.ts";

/** One map to render over its image, and what to encode. */
export interface RenderJob {
  image: RgbImage;
  map: MapGrid;
  options: RenderOptions & { overlay: boolean; heatmap: boolean };
}

/** Renders the PNGs of maps. */
export interface Renderer {
  /**
   * The PNGs of one map. `here: true` renders on this thread even when a
   * render thread is idle (the last map of a request: nothing to overlap).
   */
  render(job: RenderJob, options?: { here?: boolean }): Promise<RenderedPngs>;
  /** Stops the render threads (calls under way fail). */
  close(): void;
}

/**
 * Renders on this thread only, with the server's fast PNG settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = { width: 2, height: 2, data: new Uint8Array(12) };
 * const map = { values: new Float32Array([0, 1, 1, 0]), width: 2, height: 2 };
 * const pngs = await renderHere().render({
 *   image,
 *   map,
 *   options: { overlay: true, heatmap: false },
 * });
 * assert.equal(pngs.overlay?.[1], 0x50); // "PNG"
 * assert.equal(pngs.heatmap, undefined);
 * ```
 */
export function renderHere(): Renderer {
  return {
    render: (job) =>
      renderPngs(job.image, job.map, { ...job.options, ...FAST_PNG }),
    close() {},
  };
}

/** The largest image whose shared copy is kept between jobs (8 MiB, a 2.8 MP image). */
const MAX_KEPT_IMAGE_BYTES = 8 * 1024 * 1024;

interface Reply {
  id: number;
  pngs?: RenderedPngs;
  error?: string;
}

/**
 * A renderer with one render thread beside this one: a map goes to the
 * thread when it is idle, else is rendered here at once. The same bytes as
 * {@linkcode renderHere}, in the same order of calls.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const renderer = createRenderPool();
 * const image = { width: 2, height: 2, data: new Uint8Array(12) };
 * const map = { values: new Float32Array([0, 1, 1, 0]), width: 2, height: 2 };
 * const job = { image, map, options: { overlay: true, heatmap: true } };
 * const [a, b] = await Promise.all([renderer.render(job), renderer.render(job)]);
 * assert.deepEqual(a, b);
 * renderer.close();
 * ```
 */
export function createRenderPool(): Renderer & {
  /** Maps rendered so far by the render thread and by this thread. */
  readonly rendered: { thread: number; here: number };
} {
  const here = renderHere();
  let thread: Worker | null = null;
  // Jobs posted to the thread, and (in shared memory, counted by the
  // thread) jobs it has finished. Its replies are messages, which this
  // thread reads only when its event loop turns: between two maps of a
  // request that can be long after the render thread went idle, and a busy
  // flag cleared by the reply kept every other map rendering here.
  let posted = 0;
  const finished = new Int32Array(new SharedArrayBuffer(4));
  let nextId = 0;
  const rendered = { thread: 0, here: 0 };
  const waiting = new Map<
    number,
    {
      job: RenderJob;
      resolve: (p: RenderedPngs) => void;
      reject: (e: Error) => void;
    }
  >();
  const start = () => {
    const worker = new Worker(
      new URL("./_render_thread.ts", import.meta.url),
      { type: "module" },
    );
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const { id, pngs, error } = event.data;
      const call = waiting.get(id);
      waiting.delete(id);
      if (error !== undefined || !pngs) {
        call?.reject(new Error(`Render thread: ${error}`));
      } else call?.resolve(pngs);
    };
    worker.onerror = (event) => {
      // A broken thread is dropped; its maps and the next are rendered here.
      event.preventDefault();
      for (const call of waiting.values()) {
        here.render(call.job).then(call.resolve, call.reject);
      }
      waiting.clear();
      worker.terminate();
      thread = null;
      posted = Atomics.load(finished, 0);
    };
    worker.postMessage({ finished });
    return worker;
  };
  // Posting a 451×300 image copies it twice (3 ms, most of what rendering
  // it costs); shared memory crosses for free. A new SharedArrayBuffer of
  // that size costs 1.3 ms (its pages are fresh), copying into one already
  // touched 0.01: one is kept and gets each new image. Jobs go to the
  // thread only when it is idle, so nothing reads it meanwhile. Images too
  // large to keep memory for get a buffer of their own.
  let kept: { data: Uint8Array; holds: WeakRef<Uint8Array> | null } | null =
    null;
  const ownCopies = new WeakMap<Uint8Array, Uint8Array>();
  const sharedImage = (image: RgbImage): RgbImage => {
    const { data } = image;
    if (data.buffer instanceof SharedArrayBuffer) return image;
    const size = data.byteLength;
    if (size > MAX_KEPT_IMAGE_BYTES) {
      let own = ownCopies.get(data);
      if (!own) {
        own = new Uint8Array(new SharedArrayBuffer(size));
        own.set(data);
        ownCopies.set(data, own);
      }
      return { ...image, data: own };
    }
    if (!kept || kept.data.length < size) {
      kept = { data: new Uint8Array(new SharedArrayBuffer(size)), holds: null };
    }
    const view = kept.data.subarray(0, size);
    if (kept.holds?.deref() !== data) {
      view.set(data);
      kept.holds = new WeakRef(data);
    }
    return { ...image, data: view };
  };
  return {
    rendered,
    render(job, options = {}) {
      const busy = posted > Atomics.load(finished, 0);
      if (busy || options.here) {
        rendered.here++;
        return here.render(job);
      }
      thread ??= start();
      posted++;
      rendered.thread++;
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        waiting.set(id, { job, resolve, reject });
        thread!.postMessage({
          id,
          job: { ...job, image: sharedImage(job.image) },
        });
      });
    },
    close() {
      thread?.terminate();
      thread = null;
      posted = Atomics.load(finished, 0);
      for (const call of waiting.values()) {
        call.reject(new Error("The renderer was closed"));
      }
      waiting.clear();
    },
  };
}
