import assert from "node:assert/strict";
import { createSseParser, type SseEvent } from "../../web/client/sse.ts";

const BODY = ':\r\n\r\nevent: next\r\ndata: {"a":1}\r\n\r\n' +
  "event: next\ndata: line one\ndata:line two\n\n" +
  ": ping\n\nevent: complete\ndata:\n\n";

const EXPECTED: SseEvent[] = [
  { event: "next", data: '{"a":1}' },
  { event: "next", data: "line one\nline two" },
  { event: "complete", data: "" },
];

Deno.test("createSseParser: the same events wherever the chunks are cut", () => {
  for (let cut = 0; cut <= BODY.length; cut++) {
    for (const step of [1, 3, BODY.length]) {
      const events: SseEvent[] = [];
      const parser = createSseParser((e) => events.push(e));
      parser.push(BODY.slice(0, cut));
      for (let i = cut; i < BODY.length; i += step) {
        parser.push(BODY.slice(i, i + step));
      }
      assert.deepEqual(events, EXPECTED, `cut at ${cut}, step ${step}`);
    }
  }
});

Deno.test("createSseParser: an unfinished event is not reported", () => {
  const events: SseEvent[] = [];
  createSseParser((e) => events.push(e)).push("event: next\ndata: {}\n");
  assert.deepEqual(events, []);
});
