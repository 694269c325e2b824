/**
 * Reading a `text/event-stream` body as it arrives: chunks may split lines
 * and events anywhere. Pure: no DOM, no I/O.
 *
 * @module
 */

/** One server-sent event: its type (`next`, `complete`…) and data. */
export interface SseEvent {
  event: string;
  data: string;
}

/** Feeds text chunks in, calls back once per complete event. */
export interface SseParser {
  /** Adds a chunk of the body (any size, cut anywhere). */
  push(chunk: string): void;
}

/**
 * Makes a parser calling `onEvent` for each event, in order. Comment lines
 * (`:` pings) and events with no `data:` line are skipped; `event:` defaults to
 * `message`; several `data:` lines join with newlines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const events: SseEvent[] = [];
 * const parser = createSseParser((e) => events.push(e));
 * parser.push("event: next\ndata: {\"a\"");
 * parser.push(":1}\n\n");
 * assert.deepEqual(events, [{ event: "next", data: '{"a":1}' }]);
 * ```
 */
export function createSseParser(onEvent: (event: SseEvent) => void): SseParser {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  const line = (text: string) => {
    if (text === "") {
      if (data.length > 0) {
        onEvent({ event: event || "message", data: data.join("\n") });
      }
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  };
  return {
    push(chunk) {
      buffer += chunk;
      let end: number;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A lone \r at the very end may be half of \r\n: wait for more.
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const size = buffer.startsWith("\r\n", end) ? 2 : 1;
        line(buffer.slice(0, end));
        buffer = buffer.slice(end + size);
      }
    },
  };
}
