/**
 * GraphQL answers written with `lib/json.ts` instead of `JSON.stringify`:
 * the same bytes, without copying the base64 PNGs an answer carries
 * through V8's escaping path and again into a string of the whole answer
 * and again into bytes (each copy into fresh memory: on a virtual machine
 * about 3 ms per megabyte, and explainMany's answer of six overlays is
 * 1.8 MB).
 *
 * - Each request's context carries a `LongStrings` set (`answerStrings`):
 *   a resolver can put a long ASCII string (an overlay's data URL) in it
 *   as bytes and answer its key, and every writer below puts the bytes
 *   back in its place. The PNG's base64 then never becomes a string.
 * - A plain JSON answer without errors (the one yoga's own JSON processor
 *   would give, same status and media type) is written by `jsonChunks`
 *   straight into its body (a stream of those chunks, the kept strings'
 *   bytes among them: no copy), with a `content-length` (see
 *   `bytesResponse`).
 * - Every other result, each incremental `@defer` or `@stream` part and
 *   each subscription event keeps yoga's processors, which stringify a
 *   result with its own `stringify` when it has one: it gets
 *   `stringifyJson`.
 *
 * @module
 */
import { isAsyncIterable, mapAsyncIterator, type Plugin } from "graphql-yoga";
import { jsonChunks, LongStrings, stringifyJson } from "../lib/mod.ts";
import type { LumenUserContext } from "../schema/mod.ts";

const JSON_TYPES = ["application/graphql-response+json", "application/json"];

/** Whether a type the request accepts (wildcards allowed) covers `type`. */
function covers(accepted: string, type: string): boolean {
  const [acceptedGroup, acceptedName] = accepted.split("/");
  const [group, name] = type.split("/");
  return (acceptedGroup === "*" || acceptedGroup === group) &&
    (acceptedName === "*" || acceptedName === name);
}

/**
 * The JSON media type yoga answers a request with `accept` in, or null
 * when it would not answer JSON (only event streams or multipart asked
 * for). Yoga tries the accepted types last to first and keeps its last
 * match: the first JSON type listed wins, and a wildcard is
 * `application/json`; types with a charset other than UTF-8 are skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(jsonMediaType(null), "application/json");
 * assert.equal(jsonMediaType("*" + "/*"), "application/json");
 * // Apollo Client's:
 * assert.equal(jsonMediaType("application/graphql-response+json,application/json;q=0.9"), "application/graphql-response+json");
 * assert.equal(jsonMediaType("text/event-stream"), null);
 * ```
 */
export function jsonMediaType(accept: string | null): string | null {
  const asked = (accept || "*/*").replace(/\s/g, "").toLowerCase().split(",");
  for (const entry of asked) {
    const [type, ...params] = entry.split(";");
    const charset = params.find((p) => p.includes("charset=")) ??
      "charset=utf-8";
    if (charset !== "charset=utf-8") continue;
    const found = JSON_TYPES.findLast((json) => covers(type, json));
    if (found) return found;
  }
  return null;
}

/**
 * The result with its own `stringify` (yoga's processors call it): the
 * result itself, or a copy of one another plugin froze (its keys must be
 * written as their strings too).
 */
function withStringify<T>(result: T, strings: LongStrings): T {
  if (result === null || typeof result !== "object") return result;
  const own = Object.isExtensible(result) ? result : { ...result };
  Object.defineProperty(own, "stringify", {
    value: (value: unknown) => stringifyJson(value, { strings }),
    configurable: true,
    enumerable: false,
  });
  return own;
}

/**
 * A 200 response whose body is `chunks` themselves, in order, with their
 * length. A `Response` made from a `Uint8Array` copies it into fresh
 * memory (6 ms for explainMany's 1.8 MB in Deno 2.9.6, 1 ms for a
 * Grad-CAM's 300 KB); a stream of the chunks does not. The length lets the
 * client read the body whole, not in chunks (`node:http` sends a body of
 * unknown length chunked).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode('{"data":{}}');
 * const response = bytesResponse(Response, [bytes], { "content-type": "application/json" });
 * assert.equal(response.headers.get("content-length"), "11");
 * const { value } = await response.body!.getReader().read();
 * assert.equal(value!.buffer, bytes.buffer); // not a copy
 * ```
 */
export function bytesResponse(
  ResponseClass: typeof Response,
  chunks: readonly Uint8Array[],
  headers: Record<string, string>,
): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const length = chunks.reduce((n, c) => n + c.length, 0);
  return new ResponseClass(body, {
    status: 200,
    headers: { ...headers, "content-length": String(length) },
  });
}

/** A result with data and no errors, nothing for yoga to strip or to set the status by. */
function isPlainSuccess(result: unknown): boolean {
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    return false;
  }
  const { errors, extensions } = result as {
    errors?: unknown[];
    extensions?: { http?: unknown };
  };
  return !errors?.length && !extensions?.http;
}

/**
 * The plugin: answers written by `lib/json.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createYoga, createSchema } from "graphql-yoga";
 * const yoga = createYoga({
 *   schema: createSchema({ typeDefs: "type Query { png: String }", resolvers: { Query: { png: () => "A".repeat(300_000) } } }),
 *   plugins: [useFastJsonResults()],
 * });
 * const response = await yoga.fetch("http://x/graphql", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ query: "{ png }" }),
 * });
 * assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
 * assert.equal((await response.json()).data.png.length, 300_000);
 * ```
 */
export function useFastJsonResults(): Plugin<
  Pick<LumenUserContext, "answerStrings">
> {
  // By request: its operations (a batch has several) share one set, and
  // the result's writer finds it.
  const stringsOf = new WeakMap<Request, LongStrings>();
  return {
    onContextBuilding({ context, extendContext }) {
      let strings = stringsOf.get(context.request);
      if (!strings) {
        strings = new LongStrings();
        stringsOf.set(context.request, strings);
      }
      extendContext({ answerStrings: strings });
    },
    onResultProcess(
      { request, result, resultProcessor, setResult, setResultProcessor },
    ) {
      // No context was built (a request refused before execution): no keys.
      const strings = stringsOf.get(request) ?? new LongStrings();
      if (isAsyncIterable(result)) {
        // Its return() goes straight to the source: a client that leaves
        // stops it even while it waits for its next value.
        setResult(
          mapAsyncIterator(result, (part) => withStringify(part, strings)),
        );
        return;
      }
      if (Array.isArray(result)) {
        setResult(result.map((part) => withStringify(part, strings)));
        return;
      }
      const own = withStringify(result, strings);
      if (own !== result) setResult(own);
      const type = jsonMediaType(request.headers.get("accept"));
      if (!resultProcessor || !type || !isPlainSuccess(own)) return;
      setResultProcessor(
        (result, fetchAPI) => {
          const body = jsonChunks(result, { strings });
          return bytesResponse(fetchAPI.Response, body, {
            "content-type": `${type}; charset=utf-8`,
          });
        },
        type,
      );
    },
  };
}
