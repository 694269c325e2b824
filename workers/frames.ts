/**
 * Framing of the messages between the server and a model worker on a byte
 * stream (the worker's stdin and stdout). A frame is the message as JSON
 * with its binary arrays taken out (images, maps, PNGs: no base64, no
 * copies into numbers), then those arrays' bytes:
 *
 *   "LUMF" | u32 JSON length | u32 array count | u32 byte length × count | JSON | bytes…
 *
 * (little-endian). The mark and bounds on the head make anything else on
 * the stream (a library printing to stdout, say) a {@linkcode FrameError}
 * at once, not a frame of whatever length its bytes spell. In the JSON an
 * array is `{"$bin": index, "t": "u8"|"f32"}`. The JSON is padded with
 * spaces, and each array with zeros, to a multiple of four bytes, so that a
 * frame read into one buffer hands out its arrays as views, `Float32Array`s
 * included.
 *
 * Large frames are where the time goes (a 240 KB image or PNG per
 * request), and on a virtual machine every fresh page costs a fault: a
 * frame is written as its parts (no concatenated copy) and read straight
 * into one buffer of its size (no per-chunk buffers, no second copy).
 *
 * @module
 */

/** "LUMF", read as a little-endian u32. */
const MARK = 0x464d554c;
const HEADER = 12;
const STAGE_BYTES = 64 * 1024;
/** The most arrays a frame may carry (a call's or a result's are a few). */
const MAX_ARRAYS = 65_536;
/** The longest JSON part (arrays travel outside it). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** Bytes on a frame stream that are not a frame. */
export class FrameError extends Error {
  override name = "FrameError";
}
const ZEROS = new Uint8Array(3);

type Binary = Uint8Array | Float32Array;

const padding = (n: number) => (4 - (n % 4)) % 4;

/**
 * One message as the parts of its frame, in order: the head (sizes and
 * JSON), then each array's bytes (views of the message's own arrays, not
 * copies: they must not change until written) and its padding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const image = new Uint8Array([1, 2, 3, 4, 5]);
 * const parts = encodeFrameParts({ type: "call", image });
 * assert.equal(parts[1].buffer, image.buffer); // the image itself, not a copy
 * assert.equal(parts.reduce((n, p) => n + p.length, 0) % 4, 0);
 * ```
 */
export function encodeFrameParts(message: unknown): Uint8Array[] {
  const arrays: Binary[] = [];
  let json = JSON.stringify(message, (_key, value) => {
    if (value instanceof Uint8Array || value instanceof Float32Array) {
      arrays.push(value);
      return {
        $bin: arrays.length - 1,
        t: value instanceof Uint8Array ? "u8" : "f32",
      };
    }
    return value;
  });
  let text = new TextEncoder().encode(json);
  const headBytes = HEADER + 4 * arrays.length;
  const pad = padding(headBytes + text.length);
  if (pad > 0) {
    json += " ".repeat(pad); // JSON allows trailing white space
    text = new TextEncoder().encode(json);
  }
  const head = new Uint8Array(headBytes + text.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, MARK, true);
  view.setUint32(4, text.length, true);
  view.setUint32(8, arrays.length, true);
  arrays.forEach((a, i) => view.setUint32(HEADER + 4 * i, a.byteLength, true));
  head.set(text, headBytes);
  const parts: Uint8Array[] = [head];
  for (const a of arrays) {
    parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const tail = padding(a.byteLength);
    if (tail > 0) parts.push(ZEROS.subarray(0, tail));
  }
  return parts;
}

/**
 * Encodes one message as a frame, in one buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = encodeFrame({ type: "cancel", id: 3 });
 * assert.deepEqual(decodeFrames([frame]), [{ type: "cancel", id: 3 }]);
 * // Binary arrays travel as bytes beside the JSON, not as JSON numbers.
 * const map = new Float32Array([0.25, 1]);
 * assert.deepEqual(decodeFrames([encodeFrame({ map })]), [{ map }]);
 * ```
 */
export function encodeFrame(message: unknown): Uint8Array {
  const parts = encodeFrameParts(message);
  const frame = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    frame.set(p, at);
    at += p.length;
  }
  return frame;
}

/**
 * Decodes one complete frame. Its arrays are views of `frame`, which the
 * caller hands over (a fresh buffer, never one that is reused).
 */
function decodeFrame(frame: Uint8Array): unknown {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const textLength = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  let at = HEADER + 4 * count;
  const text = new TextDecoder().decode(frame.subarray(at, at + textLength));
  at += textLength;
  const blobs = Array.from({ length: count }, (_, i) => {
    const n = view.getUint32(HEADER + 4 * i, true);
    const bytes = frame.subarray(at, at + n);
    at += n + padding(n);
    return bytes;
  });
  return JSON.parse(text, (_key, value) => {
    if (
      value && typeof value === "object" && typeof value.$bin === "number"
    ) {
      const bytes = blobs[value.$bin];
      if (value.t !== "f32") return bytes;
      // Aligned whenever the frame starts on a 4-byte boundary; else a copy.
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
      return new Float32Array(
        aligned.buffer,
        aligned.byteOffset,
        aligned.byteLength / 4,
      );
    }
    return value;
  });
}

/** Total length of the frame whose first bytes are `head`, or null if unknown yet. */
function frameLength(head: Uint8Array): number | null {
  if (head.length < HEADER) {
    // Even a partial mark that is wrong is known to be wrong.
    for (let i = 0; i < Math.min(head.length, 4); i++) {
      if (head[i] !== ((MARK >>> (8 * i)) & 0xff)) notAFrame(head);
    }
    return null;
  }
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  if (view.getUint32(0, true) !== MARK) notAFrame(head);
  const textLength = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  if (textLength > MAX_JSON_BYTES || count > MAX_ARRAYS) {
    throw new FrameError(
      `frame head out of bounds: ${textLength} bytes of JSON, ${count} arrays`,
    );
  }
  if (head.length < HEADER + 4 * count) return null;
  let total = HEADER + 4 * count + textLength;
  for (let i = 0; i < count; i++) {
    const n = view.getUint32(HEADER + 4 * i, true);
    total += n + padding(n);
  }
  return total;
}

function notAFrame(bytes: Uint8Array): never {
  const start = new TextDecoder().decode(bytes.subarray(0, 24));
  throw new FrameError(`not a frame: ${JSON.stringify(start)}…`);
}

/**
 * Decodes the frames in a list of chunks that hold whole frames (tests).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodeFrames([encodeFrame({ a: 1 }), encodeFrame({ b: 2 })]), [{ a: 1 }, { b: 2 }]);
 * ```
 */
export function decodeFrames(chunks: readonly Uint8Array[]): unknown[] {
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.length), 0);
  const out: unknown[] = [];
  for (let at = 0; at < bytes.length;) {
    const total = frameLength(bytes.subarray(at));
    if (total === null || at + total > bytes.length) break;
    out.push(decodeFrame(bytes.slice(at, at + total)));
    at += total;
  }
  return out;
}

/**
 * Reads into `into` (up to its length); the view of the bytes read, which
 * may lie in another `ArrayBuffer` of the same size (a BYOB stream moves
 * the buffer it is given); null at the end of the stream.
 */
export type FillFn = (into: Uint8Array) => Promise<Uint8Array | null>;

/**
 * Reads frames with `fill` until the stream ends: small frames through a
 * staging buffer, a large one straight into a buffer of its own size once
 * its head is known. An unfinished last frame is dropped (the writer died).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([...encodeFrame({ a: 1 }), ...encodeFrame({ b: new Uint8Array(100_000) })]);
 * let at = 0;
 * const fill = (into: Uint8Array) => { // a source that gives 1000 bytes at a time
 *   const n = Math.min(into.length, 1000, bytes.length - at);
 *   into.set(bytes.subarray(at, at + n));
 *   at += n;
 *   return Promise.resolve(n === 0 ? null : into.subarray(0, n));
 * };
 * const seen = [];
 * for await (const m of framesFrom(fill)) seen.push(m);
 * assert.deepEqual(seen[0], { a: 1 });
 * assert.equal((seen[1] as { b: Uint8Array }).b.length, 100_000);
 * ```
 */
export async function* framesFrom(fill: FillFn): AsyncGenerator<unknown> {
  let stage: Uint8Array = new Uint8Array(STAGE_BYTES);
  let have = 0;
  for (;;) {
    let total = frameLength(stage.subarray(0, have));
    while (total === null) {
      if (have === stage.length) {
        // A head larger than the stage (over 16,000 arrays): grow it.
        const bigger: Uint8Array = new Uint8Array(stage.length * 2);
        bigger.set(stage);
        stage = bigger;
      }
      const size = stage.length; // a moved buffer leaves `stage` empty
      const got = await fill(stage.subarray(have));
      if (!got) return;
      stage = new Uint8Array(got.buffer, 0, size);
      have += got.length;
      total = frameLength(stage.subarray(0, have));
    }
    if (total <= have) {
      const frame = stage.slice(0, total);
      stage.copyWithin(0, total, have);
      have -= total;
      yield decodeFrame(frame);
      continue;
    }
    let frame: Uint8Array = new Uint8Array(total);
    frame.set(stage.subarray(0, have));
    let at = have;
    have = 0;
    while (at < total) {
      const got = await fill(frame.subarray(at));
      if (!got) return;
      frame = new Uint8Array(got.buffer, 0, total);
      at += got.length;
    }
    yield decodeFrame(frame);
  }
}

/**
 * Reads framed messages from a stream until it ends: a byte stream (a
 * child process's stdout) is read in place (BYOB), any other one chunk by
 * chunk, copied into the frames.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A worker's stdout (child.stdout), cut anywhere:
 * const bytes = new Uint8Array([...encodeFrame({ a: 1 }), ...encodeFrame({ b: 2 })]);
 * const stdout = ReadableStream.from([bytes.subarray(0, 7), bytes.subarray(7)]);
 * const messages: unknown[] = [];
 * for await (const message of readFrames(stdout)) messages.push(message);
 * assert.deepEqual(messages, [{ a: 1 }, { b: 2 }]);
 * ```
 */
export async function* readFrames(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<unknown> {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: its chunks are copied into the buffers asked for.
  }
  if (byob) {
    try {
      yield* framesFrom(byobFill(byob));
    } finally {
      byob.releaseLock();
    }
    return;
  }
  const reader = stream.getReader();
  try {
    yield* framesFrom(chunkFill(reader));
  } finally {
    reader.releaseLock();
  }
}

function byobFill(reader: ReadableStreamBYOBReader): FillFn {
  return async (into) => {
    const { value, done } = await reader.read(into);
    return done || !value ? null : value;
  };
}

function chunkFill(reader: ReadableStreamDefaultReader<Uint8Array>): FillFn {
  let rest: Uint8Array = new Uint8Array();
  return async (into) => {
    while (rest.length === 0) {
      const { value, done } = await reader.read();
      if (done) return null;
      rest = value;
    }
    const n = Math.min(into.length, rest.length);
    into.set(rest.subarray(0, n));
    rest = rest.subarray(n);
    return into.subarray(0, n);
  };
}

/**
 * Reads framed messages from a Deno reader (the worker's `Deno.stdin`:
 * its `read` is several times faster than its `readable` stream for
 * frames of hundreds of kilobytes).
 *
 * @example
 * ```ts ignore
 * for await (const message of readFramesFrom(Deno.stdin)) handle(message);
 * ```
 */
export function readFramesFrom(
  reader: { read(into: Uint8Array): Promise<number | null> },
): AsyncGenerator<unknown> {
  return framesFrom(async (into) => {
    const n = await reader.read(into);
    return n === null ? null : into.subarray(0, n);
  });
}
