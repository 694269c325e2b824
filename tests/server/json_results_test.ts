import assert from "node:assert/strict";
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import { LongStrings } from "../../lib/json.ts";
import {
  jsonMediaType,
  useFastJsonResults,
} from "../../server/json_results.ts";
import { longestStringified } from "../_json_spy.ts";

const PNG = "data:image/png;base64," + "iVBORw0KGgo+/".repeat(25_000);
const PNG_BYTES = new TextEncoder().encode(PNG);

/** The context the plugin gives resolvers (nothing without it). */
type Context = { answerStrings?: LongStrings };

/** PNG as the answer's kept bytes where the plugin runs, else as a string. */
const kept = (context: Context, suffix = "") =>
  context.answerStrings?.add(
    new TextEncoder().encode(PNG + suffix),
  ) ?? PNG + suffix;

/** Kinds of body the answers were made with (yoga's own processor gives a string). */
const bodies: string[] = [];

class RecordingResponse extends Response {
  constructor(body?: BodyInit | null, init?: ResponseInit) {
    bodies.push(
      body instanceof Uint8Array
        ? "bytes"
        : body instanceof ReadableStream
        ? "stream"
        : typeof body,
    );
    super(body, init);
  }
}

function yoga(plugins: Plugin[], onStop?: () => void) {
  return createYoga({
    fetchAPI: { Response: RecordingResponse },
    schema: createSchema({
      typeDefs: `
        type Query { png: String, kept: String, label: String, fail: String, list: [String] }
        type Subscription { pngs: String, keptPngs: String }
      `,
      resolvers: {
        Query: {
          png: () => PNG,
          kept: (_: unknown, __: unknown, context: Context) => kept(context),
          label: () => 'a "tabby" cat',
          fail: () => {
            throw new Error("this field fails");
          },
          list: () => [PNG, "é"],
        },
        Subscription: {
          keptPngs: {
            async *subscribe(_: unknown, __: unknown, context: Context) {
              for (let i = 0;; i++) {
                yield { keptPngs: kept(context, String(i)) };
                await new Promise((r) => setTimeout(r, 5));
              }
            },
          },
          pngs: {
            async *subscribe() {
              try {
                for (let i = 0;; i++) {
                  yield { pngs: `${PNG}${i}` };
                  await new Promise((r) => setTimeout(r, 5));
                }
              } finally {
                onStop?.();
              }
            },
          },
        },
      },
    }),
    plugins: [useDeferStream(), ...plugins],
    logging: false,
    maskedErrors: false,
  });
}

const ACCEPTS = [
  null,
  "*/*",
  "application/json",
  "application/graphql-response+json",
  "application/graphql-response+json, application/json;q=0.9",
  "application/graphql-response+json;charset=utf-8",
  "application/json; charset=latin1, application/graphql-response+json",
  "application/*",
  "*/json",
  "multipart/mixed",
  "text/event-stream",
  "multipart/mixed, application/json",
  "application/json, text/event-stream",
  "text/html",
];

const QUERIES = [
  "{ png label list }",
  "{ png fail }", // data and an error: yoga's own processor answers
  "{ nope }", // a validation error
  "{ label ... @defer { png } }", // parts, where the Accept allows them
  // A string kept as bytes, in each kind of answer:
  "{ kept label list kept2: kept }",
  "{ kept fail }",
  "{ label ... @defer { kept } }",
];

async function answer(
  app: ReturnType<typeof yoga>,
  query: string,
  accept: string | null,
) {
  const response = await app.fetch("http://lumen.test/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(accept ? { accept } : {}),
    },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    // Multipart boundaries are fixed ("-"); nothing else varies per run.
    text,
  };
}

Deno.test("answers are the bytes yoga itself gives, for every Accept and kind of result", async () => {
  const plain = yoga([]);
  const fast = yoga([useFastJsonResults()]);
  for (const query of QUERIES) {
    for (const accept of ACCEPTS) {
      const expected = await answer(plain, query, accept);
      const actual = await answer(fast, query, accept);
      assert.deepEqual(
        { ...actual, text: actual.text.length },
        { ...expected, text: expected.text.length },
        `${query} with Accept ${accept}`,
      );
      assert.ok(
        actual.text === expected.text,
        `${query} with Accept ${accept}: bodies differ`,
      );
    }
  }
});

Deno.test("a result another plugin froze is answered as yoga answers it", async () => {
  const freeze: Plugin = {
    onExecutionResult({ result, setResult }) {
      if (!Array.isArray(result)) setResult(Object.freeze({ ...result }));
    },
  };
  const plain = yoga([freeze]);
  const fast = yoga([freeze, useFastJsonResults()]);
  // Kept strings too: a frozen result's keys are written as their strings.
  for (const query of [...QUERIES.slice(0, 2), ...QUERIES.slice(4, 6)]) {
    const expected = await answer(plain, query, null);
    const actual = await answer(fast, query, null);
    assert.equal(actual.status, expected.status, query);
    assert.ok(actual.text === expected.text, `${query}: bodies differ`);
  }
});

Deno.test("jsonMediaType picks the type yoga answers JSON with", async () => {
  const plain = yoga([]);
  for (const accept of ACCEPTS) {
    const { type } = await answer(plain, "{ label }", accept);
    const json = type?.startsWith("application/") ? type.split(";")[0] : null;
    assert.equal(jsonMediaType(accept), json, `Accept ${accept}`);
  }
});

Deno.test("the long strings of an answer never go through JSON.stringify", async () => {
  const fast = yoga([useFastJsonResults()]);
  const { value: answered, longest } = await longestStringified(async () => {
    bodies.length = 0;
    const answered = await answer(fast, "{ png kept label list }", null);
    // A plain JSON answer is written as bytes (streamed, not copied), not
    // stringified by yoga (whose body is a string).
    assert.deepEqual(bodies, ["stream"]);
    await answer(fast, "{ label ... @defer { png kept } }", "multipart/mixed");
    await answer(fast, "{ png kept fail }", "application/json");
    return answered;
  });
  assert.equal(JSON.parse(answered.text).data.png, PNG);
  assert.equal(JSON.parse(answered.text).data.kept, PNG);
  assert.ok(longest < 1000, `JSON.stringify wrote ${longest} characters`);
});

Deno.test("a subscription's events are yoga's, and a client that leaves stops it", async () => {
  const read = async (
    app: ReturnType<typeof yoga>,
    events: number,
    field = "pngs",
  ) => {
    const controller = new AbortController();
    const response = await app.fetch("http://lumen.test/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
      },
      body: JSON.stringify({ query: `subscription { ${field} }` }),
      signal: controller.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while ((text.match(/event: next/g) ?? []).length < events) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    controller.abort();
    await reader.cancel().catch(() => {});
    return text.split("\n\n").filter((e) => e.startsWith("event: next")).slice(
      0,
      events,
    );
  };
  let stopped = 0;
  const plain = yoga([]);
  const fast = yoga([useFastJsonResults()], () => stopped++);
  assert.deepEqual(await read(fast, 3), await read(plain, 3));
  const keptEvents = await read(fast, 3, "keptPngs");
  assert.deepEqual(keptEvents, await read(plain, 3, "keptPngs"));
  // (The last event read may be cut short: the reader stops at its mark.)
  assert.ok(keptEvents[1].endsWith(`{"keptPngs":"${PNG}1"}}`));
  const deadline = Date.now() + 2000;
  while (stopped === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(stopped, 1, "the subscription went on after its client left");
});

Deno.test("a plain JSON answer says its length (no chunked body); incremental answers do not", async () => {
  const app = yoga([useFastJsonResults()]);
  for (const accept of [null, "application/json", "*/*"]) {
    const response = await app.fetch("http://lumen.test/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(accept ? { accept } : {}),
      },
      body: JSON.stringify({ query: "{ png label list }" }),
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    // "é" takes two bytes: the length counts bytes, not characters.
    assert.equal(response.headers.get("content-length"), String(bytes.length));
  }
  const parts = await app.fetch("http://lumen.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "multipart/mixed" },
    body: JSON.stringify({ query: "{ label ... @defer { png } }" }),
  });
  await parts.body?.cancel();
  assert.equal(parts.headers.get("content-length"), null);
});

Deno.test("a string kept as bytes is written as they are, and a key of another request is only text", async () => {
  const app = yoga([useFastJsonResults()]);
  bodies.length = 0;
  const response = await app.fetch("http://lumen.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ kept }" }),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  assert.equal(
    new TextDecoder().decode(bytes),
    JSON.stringify({ data: { kept: PNG } }),
  );
  assert.equal(response.headers.get("content-length"), String(bytes.length));
  // Another request's set (or none) does not know the key: it stays the
  // string it is, escaped like any other.
  const other = new LongStrings();
  const key = other.add(PNG_BYTES);
  const stranger = createYoga({
    schema: createSchema({
      typeDefs: "type Query { key: String }",
      resolvers: { Query: { key: () => key } },
    }),
    plugins: [useFastJsonResults()],
    logging: false,
  });
  const answered = await stranger.fetch("http://lumen.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ key }" }),
  });
  assert.deepEqual(await answered.json(), { data: { key } });
});
