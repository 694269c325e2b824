/**
 * Rendering many maps of one image on more than one core: a render thread
 * (a Web Worker) renders maps as this thread makes them, and once this
 * thread has made the last it renders whatever the render thread has not
 * started. An explanation of six methods spends most of its time after the
 * model pass encoding six PNGs (about 2 ms each for a 451×300 overlay, half
 * of it deflate) and making six maps (EigenGradCAM's alone about 2 ms): the
 * maps are made while the first PNGs are encoded, and the rest are
 * encoded on both cores.
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
   * The PNGs of one map. `here: true` says this thread has nothing left
   * to overlap (the last map of a request): a pool renders this map here,
   * then helps with those still queued.
   */
  render(job: RenderJob, options?: { here?: boolean }): Promise<RenderedPngs>;
  /**
   * This thread has nothing left to overlap and nothing of its own to
   * render (the last map's PNGs were made already): a pool renders here
   * the maps still queued. Resolves when none is left to take.
   */
  idle(): Promise<void>;
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
    idle: () => Promise.resolve(),
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

/** What the render thread gets: its claims first, then one map per message. */
export type ThreadMessage =
  | { claims: Int32Array }
  | { id: number; slot: number; job: RenderJob };

/**
 * Claim slots in shared memory: a queued job's slot holds its id until the
 * render thread or this thread claims it (an exchange of the id for 0, so
 * each job is rendered once). A job whose slot is still taken (this many
 * jobs queued and unclaimed) is rendered here at once.
 */
const SLOTS = 256;

/** A queued job. */
interface Queued {
  job: RenderJob;
  slot: number;
  /** Whether the thread reads the kept image buffer for it. */
  readsKept: boolean;
  resolve: (p: RenderedPngs) => void;
  reject: (e: Error) => void;
}

/**
 * A renderer with one render thread beside this one. Maps queue for the
 * thread, which renders them oldest first; a call with `here: true` (the
 * caller has nothing left to overlap) renders its map on this thread, then
 * takes every queued map the thread has not started, newest first. Each
 * map is claimed once, in shared memory, so neither thread waits for the
 * other's messages. The same bytes as {@linkcode renderHere}, each to its
 * own call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const renderer = createRenderPool();
 * const image = { width: 2, height: 2, data: new Uint8Array(12) };
 * const map = { values: new Float32Array([0, 1, 1, 0]), width: 2, height: 2 };
 * const job = { image, map, options: { overlay: true, heatmap: true } };
 * const [a, b] = await Promise.all([
 *   renderer.render(job),
 *   renderer.render(job, { here: true }),
 * ]);
 * assert.deepEqual(a, b);
 * assert.equal(renderer.rendered.thread + renderer.rendered.here, 2);
 * renderer.close();
 * ```
 */
export function createRenderPool(): Renderer & {
  /** Maps rendered so far by the render thread and by this thread. */
  readonly rendered: { thread: number; here: number };
} {
  const here = renderHere();
  let thread: Worker | null = null;
  const claims = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  let nextId = 0;
  const rendered = { thread: 0, here: 0 };
  /** Queued jobs by id, in the order they came. */
  const waiting = new Map<number, Queued>();
  // Posting a 451×300 image copies it twice (3 ms, most of what rendering
  // it costs); shared memory crosses for free. A new SharedArrayBuffer of
  // that size costs 1.3 ms (its pages are fresh), copying into one already
  // touched 0.01: one is kept and gets each new image, unless a queued job
  // still reads it (then the new image gets a buffer of its own, as do
  // images too large to keep memory for).
  let kept: { data: Uint8Array; holds: WeakRef<Uint8Array> | null } | null =
    null;
  let keptReaders = 0;
  const ownCopies = new WeakMap<Uint8Array, Uint8Array>();
  const ownCopy = (data: Uint8Array): Uint8Array => {
    let own = ownCopies.get(data);
    if (!own) {
      own = new Uint8Array(new SharedArrayBuffer(data.byteLength));
      own.set(data);
      ownCopies.set(data, own);
    }
    return own;
  };
  const sharedImage = (
    image: RgbImage,
  ): { image: RgbImage; readsKept: boolean } => {
    const { data } = image;
    if (data.buffer instanceof SharedArrayBuffer) {
      return { image, readsKept: false };
    }
    const size = data.byteLength;
    const holds = kept?.holds?.deref() === data;
    if (size > MAX_KEPT_IMAGE_BYTES || (!holds && keptReaders > 0)) {
      return { image: { ...image, data: ownCopy(data) }, readsKept: false };
    }
    if (!kept || kept.data.length < size) {
      kept = { data: new Uint8Array(new SharedArrayBuffer(size)), holds: null };
    }
    const view = kept.data.subarray(0, size);
    if (!holds) {
      view.set(data);
      kept.holds = new WeakRef(data);
    }
    keptReaders++;
    return { image: { ...image, data: view }, readsKept: true };
  };
  /** The job leaves the queue (claimed here, answered, or dropped). */
  const done = (id: number, call: Queued) => {
    waiting.delete(id);
    if (call.readsKept) keptReaders--;
  };
  const renderHereFor = (call: Queued) => {
    rendered.here++;
    return here.render(call.job).then(call.resolve, call.reject);
  };
  const start = () => {
    const worker = new Worker(
      new URL("./_render_thread.ts", import.meta.url),
      { type: "module" },
    );
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const { id, pngs, error } = event.data;
      rendered.thread++;
      const call = waiting.get(id);
      if (!call) return; // closed meanwhile
      done(id, call);
      if (error !== undefined || !pngs) {
        call.reject(new Error(`Render thread: ${error}`));
      } else call.resolve(pngs);
    };
    worker.onerror = (event) => {
      // A broken thread is dropped; its maps and the next are rendered here.
      event.preventDefault();
      worker.terminate();
      thread = null;
      const calls = [...waiting.entries()];
      for (const [id, call] of calls) {
        Atomics.store(claims, call.slot, 0);
        done(id, call);
      }
      for (const [, call] of calls) void renderHereFor(call);
    };
    worker.postMessage({ claims } satisfies ThreadMessage);
    return worker;
  };
  /** The newest queued job the thread has not claimed, claimed here. */
  const claimNewest = (): Queued | undefined => {
    for (const id of [...waiting.keys()].reverse()) {
      const call = waiting.get(id)!;
      if (Atomics.compareExchange(claims, call.slot, id, 0) === id) {
        done(id, call);
        return call;
      }
    }
    return undefined;
  };
  let taking = false;
  /** This thread renders the queued jobs the thread has not claimed. */
  const takeQueued = async () => {
    if (taking) return; // the loop under way takes jobs queued since too
    taking = true;
    try {
      // Awaited: the caller hears of each map before the next is begun.
      for (let call; (call = claimNewest());) await renderHereFor(call);
    } finally {
      taking = false;
    }
  };
  return {
    rendered,
    render(job, options = {}) {
      const id = nextId = nextId % 0x7fffffff + 1;
      const slot = id % SLOTS;
      if (options.here || Atomics.load(claims, slot) !== 0) {
        rendered.here++;
        const pngs = here.render(job);
        if (options.here) pngs.then(takeQueued, takeQueued);
        return pngs;
      }
      thread ??= start();
      const shared = sharedImage(job.image);
      Atomics.store(claims, slot, id);
      return new Promise((resolve, reject) => {
        waiting.set(id, {
          job,
          slot,
          readsKept: shared.readsKept,
          resolve,
          reject,
        });
        thread!.postMessage(
          {
            id,
            slot,
            job: { ...job, image: shared.image },
          } satisfies ThreadMessage,
        );
      });
    },
    idle: takeQueued,
    close() {
      thread?.terminate();
      thread = null;
      for (const [id, call] of [...waiting.entries()]) {
        Atomics.store(claims, call.slot, 0);
        done(id, call);
        call.reject(new Error("The renderer was closed"));
      }
    },
  };
}
