/**
 * Stdout written by a thread of its own. A model worker's frames go through
 * a 64 KiB pipe, and `writeSync` blocks until the server has read: an
 * explanation of six methods spent 6 to 28 ms (median 13) of its main thread
 * blocked there, waiting on the server's reads while maps and PNGs waited on
 * it. Here the main thread copies a frame into a shared ring and goes on;
 * the writer thread (`_frame_writer_thread.ts`) writes the ring to stdout.
 * One ring and one writer: bytes leave in the order they were given.
 *
 * @module
 */

/** Slots of the control array. */
const WRITTEN = 0; // bytes given, mod 2^32
const READ = 1; // bytes written to stdout, mod 2^32
const FAILED = 2; // 1 once stdout refused a write (the reader is gone)

/** Bytes to stdout through the writer thread. */
export interface FrameWriter {
  /**
   * Copies the parts into the ring, in order; waits (blocking) only while
   * the ring is full. False once stdout refused a write: the reader is
   * gone and nothing will arrive.
   */
  write(parts: readonly Uint8Array[]): boolean;
  /**
   * Waits (blocking) until everything given has been written, at most
   * `timeoutMs`; true when it has.
   */
  flush(timeoutMs: number): boolean;
}

/** Options of {@linkcode createFrameWriter}. */
export interface FrameWriterOptions {
  /** The ring's size, a power of two. @default 4 MiB */
  ringBytes?: number;
}

/**
 * Starts the writer thread and returns the writer. Parts larger than the
 * ring go through it piece by piece.
 *
 * @example
 * ```ts ignore
 * // In a model worker, whose stdout is the frame pipe:
 * const writer = createFrameWriter();
 * if (!writer.write(encodeFrameParts(message))) Deno.exit(0); // the server is gone
 * writer.flush(1000); // before exiting
 * ```
 */
export function createFrameWriter(
  options: FrameWriterOptions = {},
): FrameWriter {
  const size = options.ringBytes ?? 4 * 1024 * 1024;
  if (!(size >= 16 && (size & (size - 1)) === 0 && size <= 2 ** 30)) {
    throw new RangeError(`ringBytes must be a power of two, got ${size}`);
  }
  const ring = new SharedArrayBuffer(size);
  const control = new SharedArrayBuffer(3 * 4);
  const bytes = new Uint8Array(ring);
  const ctrl = new Int32Array(control);
  const thread = new Worker(
    new URL("./_frame_writer_thread.ts", import.meta.url),
    { type: "module" },
  );
  thread.postMessage({ ring, control });
  let written = 0;
  const publish = () => {
    Atomics.store(ctrl, WRITTEN, written);
    Atomics.notify(ctrl, WRITTEN);
  };
  return {
    write(parts) {
      for (const part of parts) {
        for (let at = 0; at < part.length;) {
          if (Atomics.load(ctrl, FAILED)) return false;
          const read = Atomics.load(ctrl, READ);
          const free = size - ((written - read) | 0);
          if (free === 0) {
            publish();
            Atomics.wait(ctrl, READ, read);
            continue;
          }
          const start = (written >>> 0) % size;
          const n = Math.min(free, part.length - at, size - start);
          bytes.set(part.subarray(at, at + n), start);
          at += n;
          written = (written + n) | 0;
        }
      }
      publish();
      return Atomics.load(ctrl, FAILED) === 0;
    },
    flush(timeoutMs) {
      const end = performance.now() + timeoutMs;
      for (;;) {
        if (Atomics.load(ctrl, FAILED)) return false;
        const read = Atomics.load(ctrl, READ);
        if (read === written) return true;
        const left = end - performance.now();
        if (left <= 0) return false;
        Atomics.wait(ctrl, READ, read, left);
      }
    },
  };
}
