/**
 * The body of a frame writer's thread (see `frame_writer.ts`): writes each
 * frame's parts to stdout in the order they came, blocking this thread
 * only while the pipe is full.
 *
 * @module
 */
import type { WriterMessage, WriterReply } from "./frame_writer.ts";

const port = self as unknown as Worker;
let gone = false;

function writeAll(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) {
    at += Deno.stdout.writeSync(bytes.subarray(at));
  }
}

port.onmessage = (event: MessageEvent<WriterMessage>) => {
  const message = event.data;
  if ("flush" in message) {
    port.postMessage({ flushed: message.flush } satisfies WriterReply);
    return;
  }
  if (gone) return;
  try {
    for (const part of message.parts) writeAll(part);
  } catch {
    // The reader is gone: nothing more can be written.
    gone = true;
    port.postMessage({ gone: true } satisfies WriterReply);
  }
};
