/**
 * Frames to the server written by a thread of their own. A pipe holds
 * 64 KB: a PNG frame of 225 KB leaves only as fast as the server reads it,
 * in four or more round trips between the processes (1 to 2 ms on these
 * machines). Written by the thread that makes them, each frame held up that
 * thread's next map or PNG; written here, the model worker's thread hands a
 * frame over (a message, its PNGs moved, not copied) and goes on, and the
 * frames leave while the next ones are made. Frames leave in the order
 * they were sent.
 *
 * @module
 */
import { encodeFrameParts } from "./frames.ts";

/** A writer of frames on this process's stdout. */
export interface FrameWriter {
  /**
   * Queues `message` as a frame and returns at once. The buffers in
   * `handOver` move to the writer's thread with the frame (a PNG's
   * `ArrayBuffer`: detached here afterwards); the frame's other arrays are
   * copied, so they may change once this returns.
   */
  send(message: unknown, handOver?: readonly ArrayBufferLike[]): void;
  /** Resolves once every frame sent before is written (or can no longer be). */
  flush(): Promise<void>;
}

/** What the writer's thread gets: a frame's parts, or a flush to answer. */
export type WriterMessage = { parts: Uint8Array[] } | { flush: number };

/** What the writer's thread answers. */
export type WriterReply = { flushed: number } | { gone: true };

/**
 * A frame writer on its own thread. `onGone` runs once when stdout can no
 * longer be written (the server is gone).
 *
 * @example
 * ```ts ignore
 * const writer = threadFrameWriter({ onGone: () => Deno.exit(0) });
 * writer.send({ type: "event", id: 1, event: "rendering", data }, [overlay.buffer]);
 * await writer.flush();
 * ```
 */
export function threadFrameWriter(
  options: { onGone: () => void },
): FrameWriter {
  const thread = new Worker(
    new URL("./_writer_thread.ts", import.meta.url),
    { type: "module" },
  );
  const flushes = new Map<number, () => void>();
  let nextFlush = 0;
  let gone = false;
  const goneNow = () => {
    if (gone) return;
    gone = true;
    for (const resolve of flushes.values()) resolve();
    flushes.clear();
    options.onGone();
  };
  thread.onmessage = (event: MessageEvent<WriterReply>) => {
    const reply = event.data;
    if ("gone" in reply) goneNow();
    else {
      flushes.get(reply.flushed)?.();
      flushes.delete(reply.flushed);
    }
  };
  thread.onerror = (event) => {
    event.preventDefault();
    goneNow();
  };
  return {
    send(message, handOver = []) {
      if (gone) return;
      const moving = new Set(handOver);
      const parts = encodeFrameParts(message);
      const posted = parts.map((part, i) =>
        i === 0 || moving.has(part.buffer) ? part : part.slice()
      );
      moving.add(parts[0].buffer); // the head is the frame's own
      thread.postMessage(
        { parts: posted } satisfies WriterMessage,
        [...moving] as ArrayBuffer[],
      );
    },
    flush() {
      if (gone) return Promise.resolve();
      const id = nextFlush++;
      const { promise, resolve } = Promise.withResolvers<void>();
      flushes.set(id, resolve);
      thread.postMessage({ flush: id } satisfies WriterMessage);
      return promise;
    },
  };
}
