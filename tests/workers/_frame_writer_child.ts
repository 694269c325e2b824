/**
 * A process that writes numbered parts to stdout through a frame writer
 * with a small ring, for `frame_writer_test.ts`: `RING COUNT`. Exits 0 once
 * all has left, 3 when stdout's reader went away.
 *
 * @module
 */
import { createFrameWriter } from "../../workers/frame_writer.ts";
import { writerParts } from "./_frame_writer_parts.ts";

const [ring, count] = Deno.args.map(Number);
const writer = createFrameWriter({ ringBytes: ring });
for (const parts of writerParts(count)) {
  if (!writer.write(parts)) Deno.exit(3);
}
Deno.exit(writer.flush(10_000) ? 0 : 4);
