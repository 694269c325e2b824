/**
 * The messages between the server and a model worker process, and their
 * framing on a byte stream (the worker's stdin and stdout). A frame is the
 * message as JSON with its binary arrays taken out (images, maps, PNGs:
 * no base64, no copies into numbers), then those arrays' bytes:
 *
 *   u32 JSON length | u32 array count | u32 byte length × count | JSON | bytes…
 *
 * (little-endian). In the JSON an array is `{"$bin": index, "t": "u8"|"f32"}`.
 *
 * @module
 */
import {
  type ClientErrorData,
  clientErrorData,
  isClientError,
  reviveClientError,
} from "../lib/mod.ts";
import type { EntryOptions, ModelSpec } from "../models/mod.ts";
import type { Call } from "./calls.ts";
import type { Lane } from "./scheduler.ts";
import type { ModelDescription, WorkStats } from "./service.ts";

/** How a worker process sets itself up. */
export interface WorkerConfig {
  /** The models, the default first. */
  models: ModelSpec[];
  /** How each model loads (engine, threads, batch sizes). */
  engine: Omit<EntryOptions, "log">;
  /** Weights budget of the loaded models, bytes; null: none. */
  maxModelBytes: number | null;
  /** Largest decoded image, width × height. */
  maxPixels: number;
  /** Explainer plugin modules, as given on the command line. */
  plugins: string[];
  /** The worker's number, for its log lines. */
  index: number;
}

/** From the server to a worker. */
export type ToWorker =
  | { type: "call"; id: number; call: Call; lane: Lane }
  | { type: "cancel"; id: number }
  | { type: "exit" };

/** An error as data: a client error keeps its code. */
export interface ErrorData {
  client: ClientErrorData | null;
  name: string;
  message: string;
}

/** What the worker reports about itself with every answer. */
export interface WorkerHealth {
  /** Resident set size of the worker process, bytes. */
  rss: number;
  work: WorkStats;
}

/** From a worker to the server. */
export type FromWorker =
  | { type: "ready"; model: ModelDescription; health: WorkerHealth }
  | { type: "failed"; error: ErrorData }
  | { type: "event"; id: number; event: string; data: unknown }
  | { type: "result"; id: number; value: unknown; health: WorkerHealth }
  | { type: "error"; id: number; error: ErrorData; health: WorkerHealth }
  | { type: "fatal"; error: ErrorData };

const HEADER = 8;

type Binary = Uint8Array | Float32Array;

/**
 * Encodes one message as a frame.
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
  const arrays: Binary[] = [];
  const json = JSON.stringify(message, (_key, value) => {
    if (value instanceof Uint8Array || value instanceof Float32Array) {
      arrays.push(value);
      return {
        $bin: arrays.length - 1,
        t: value instanceof Uint8Array ? "u8" : "f32",
      };
    }
    return value;
  });
  const text = new TextEncoder().encode(json);
  const sizes = arrays.map((a) => a.byteLength);
  const total = HEADER + 4 * arrays.length + text.length +
    sizes.reduce((s, n) => s + n, 0);
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  view.setUint32(0, text.length, true);
  view.setUint32(4, arrays.length, true);
  sizes.forEach((n, i) => view.setUint32(HEADER + 4 * i, n, true));
  let at = HEADER + 4 * arrays.length;
  frame.set(text, at);
  at += text.length;
  for (const a of arrays) {
    frame.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return frame;
}

/** Decodes one complete frame. */
function decodeFrame(frame: Uint8Array): unknown {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const textLength = view.getUint32(0, true);
  const count = view.getUint32(4, true);
  const sizes = Array.from(
    { length: count },
    (_, i) => view.getUint32(HEADER + 4 * i, true),
  );
  let at = HEADER + 4 * count;
  const text = new TextDecoder().decode(frame.subarray(at, at + textLength));
  at += textLength;
  const blobs = sizes.map((n) => {
    // A copy: aligned for Float32Array, and not a view of a reused buffer.
    const bytes = frame.slice(at, at + n);
    at += n;
    return bytes;
  });
  return JSON.parse(text, (_key, value) => {
    if (
      value && typeof value === "object" && typeof value.$bin === "number"
    ) {
      const bytes = blobs[value.$bin];
      return value.t === "f32"
        ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
        : bytes;
    }
    return value;
  });
}

/** Total length of the frame whose first bytes are `head`, or null if unknown yet. */
function frameLength(head: Uint8Array): number | null {
  if (head.length < HEADER) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const count = view.getUint32(4, true);
  if (head.length < HEADER + 4 * count) return null;
  let total = HEADER + 4 * count + view.getUint32(0, true);
  for (let i = 0; i < count; i++) total += view.getUint32(HEADER + 4 * i, true);
  return total;
}

/** Bytes arriving in chunks, taken from the front without re-copying the rest. */
class ChunkQueue {
  #chunks: Uint8Array[] = [];
  // Index of the first unread chunk: Array#shift is linear, and a pipe may
  // deliver a large frame in hundreds of thousands of tiny chunks.
  #head = 0;
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first `n` bytes (fewer if fewer have come), without removing them. */
  peek(n: number): Uint8Array {
    const first = this.#chunks[this.#head];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(Math.min(n, this.length));
    let at = 0;
    for (let i = this.#head; at < out.length; i++) {
      const part = this.#chunks[i].subarray(0, out.length - at);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes (`n` ≤ `length`). */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[this.#head];
      const part = chunk.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (part.length === chunk.length) this.#head++;
      else this.#chunks[this.#head] = chunk.subarray(part.length);
    }
    this.length -= n;
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }
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
  const out: unknown[] = [];
  const reader = frameReader();
  for (const chunk of chunks) out.push(...reader.push(chunk));
  return out;
}

/**
 * Collects frames from chunks of any size, as they arrive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const reader = frameReader(); // for a stream: for each chunk, reader.push(chunk)
 * const frame = encodeFrame({ type: "exit" });
 * assert.deepEqual(reader.push(frame.subarray(0, 5)), []); // not whole yet
 * assert.deepEqual(reader.push(frame.subarray(5)), [{ type: "exit" }]);
 * ```
 */
export function frameReader(): { push(chunk: Uint8Array): unknown[] } {
  const queue = new ChunkQueue();
  let expected: number | null = null;
  return {
    push(chunk) {
      queue.push(chunk);
      const messages: unknown[] = [];
      for (;;) {
        if (expected === null) {
          // The header, then the array sizes: enough to know the length.
          const head = queue.peek(HEADER);
          const count = head.length === HEADER
            ? new DataView(head.buffer, head.byteOffset, HEADER).getUint32(
              4,
              true,
            )
            : 0;
          expected = frameLength(queue.peek(HEADER + 4 * count));
        }
        if (expected === null || queue.length < expected) break;
        messages.push(decodeFrame(queue.take(expected)));
        expected = null;
      }
      return messages;
    },
  };
}

/**
 * Reads framed messages from a stream until it ends.
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
  const reader = frameReader();
  for await (const chunk of stream) yield* reader.push(chunk);
}

/**
 * An error as data for the other process; a client error keeps its code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError } from "../lib/mod.ts";
 * assert.equal(toErrorData(clientError("TIMEOUT", "Too slow")).client?.code, "TIMEOUT");
 * assert.deepEqual(toErrorData(new RangeError("x")), { client: null, name: "RangeError", message: "x" });
 * ```
 */
export function toErrorData(error: unknown): ErrorData {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    client: isClientError(e) ? clientErrorData(e) : null,
    name: e.name,
    message: e.message,
  };
}

/**
 * The error an {@linkcode ErrorData} describes: the client error itself, or
 * an `Error` with the same name and message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError, isClientError } from "../lib/mod.ts";
 * assert.equal(fromErrorData(toErrorData(new RangeError("x"))).name, "RangeError");
 * const revived = fromErrorData(toErrorData(clientError("TIMEOUT", "Too slow")));
 * assert.ok(isClientError(revived) && revived.code === "TIMEOUT");
 * ```
 */
export function fromErrorData(data: ErrorData): Error {
  const client = data.client && reviveClientError(data.client);
  if (client) return client;
  const error = data.name === "AbortError"
    ? new DOMException(data.message, "AbortError")
    : new Error(data.message);
  if (!(error instanceof DOMException)) error.name = data.name;
  return error as Error;
}
