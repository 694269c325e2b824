/**
 * `JSON.stringify` for answers that carry long strings (base64 PNGs of
 * hundreds of kilobytes each). V8's stringifier copies every character of
 * such a string through its escaping path into a new string; on a virtual
 * machine, where each fresh page of memory costs a fault, that was 22 ms
 * of the 1.8 MB answer of six overlays, more than rendering them. Here a
 * long string with nothing to escape is joined in as it is, and the answer
 * can be written straight into one byte buffer (`jsonBytes`) with no
 * string of its whole text in between. Everything else goes through
 * `JSON.stringify`, so the text is the same.
 *
 * @module
 */

/** Strings this long are checked as a whole; shorter ones are stringified. */
const LONG = 1024;

/** Printable ASCII but `"` and `\`: nothing JSON would escape. */
const NOTHING_TO_ESCAPE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The JSON text of a value, in pieces; `ascii` counts the characters of pieces known to be ASCII. */
interface JsonPieces {
  parts: string[];
  ascii: number;
}

function jsonPieces(value: unknown): JsonPieces | undefined {
  const parts: string[] = [];
  let ascii = 0;
  const path = new Set<object>();
  const write = (value: unknown, key: string): boolean => {
    if (
      value !== null && typeof value === "object" &&
      typeof (value as { toJSON?: unknown }).toJSON === "function"
    ) {
      value = (value as { toJSON(key: string): unknown }).toJSON(key);
    }
    if (typeof value === "string") {
      if (value.length >= LONG && NOTHING_TO_ESCAPE.test(value)) {
        parts.push('"', value, '"');
        ascii += value.length;
      } else parts.push(JSON.stringify(value));
      return true;
    }
    if (value === null || typeof value !== "object") {
      const text = JSON.stringify(value); // undefined for undefined, functions, symbols
      if (text === undefined) return false;
      parts.push(text);
      return true;
    }
    if (!Array.isArray(value) && !isPlainObject(value)) {
      // Boxed primitives, Maps and the like: as JSON.stringify has them.
      parts.push(JSON.stringify(value));
      return true;
    }
    if (path.has(value)) {
      throw new TypeError("Converting circular structure to JSON");
    }
    path.add(value);
    if (Array.isArray(value)) {
      parts.push("[");
      for (let i = 0; i < value.length; i++) {
        if (i > 0) parts.push(",");
        if (!write(value[i], String(i))) parts.push("null");
      }
      parts.push("]");
    } else {
      parts.push("{");
      let first = true;
      for (const k of Object.keys(value)) {
        const at = parts.length;
        const before = ascii;
        parts.push(first ? "" : ",", JSON.stringify(k), ":");
        if (write((value as Record<string, unknown>)[k], k)) first = false;
        else {
          parts.length = at;
          ascii = before;
        }
      }
      parts.push("}");
    }
    path.delete(value);
    return true;
  };
  return write(value, "") ? { parts, ascii } : undefined;
}

/**
 * The same text as `JSON.stringify(value)` (no replacer, no indent),
 * faster when `value` holds long strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const data = { overlay: "data:image/png;base64," + "A".repeat(400_000), label: 'say "hi"' };
 * assert.equal(stringifyJson(data), JSON.stringify(data));
 * assert.equal(stringifyJson([undefined, () => 1, NaN]), "[null,null,null]");
 * assert.equal(stringifyJson(undefined), undefined);
 * ```
 */
export function stringifyJson(value: unknown): string | undefined {
  return jsonPieces(value)?.parts.join("");
}

/**
 * `JSON.stringify(value)` as UTF-8 bytes, written into one buffer piece by
 * piece (no string of the whole text, no second copy). Throws a
 * `TypeError` for what `JSON.stringify` cannot write (a cycle, a BigInt)
 * or does not (`undefined`, a function).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const data = { data: { overlay: "data:image/png;base64," + "A".repeat(400_000), label: "café" } };
 * assert.deepEqual(jsonBytes(data), new TextEncoder().encode(JSON.stringify(data)));
 * ```
 */
export function jsonBytes(value: unknown): Uint8Array<ArrayBuffer> {
  const pieces = jsonPieces(value);
  if (!pieces) throw new TypeError(`${typeof value} is not JSON`);
  const { parts, ascii } = pieces;
  // ASCII pieces take a byte per character; the rest at most three
  // (a UTF-16 unit never takes more in UTF-8).
  let chars = 0;
  for (const p of parts) chars += p.length;
  const out = new Uint8Array(ascii + 3 * (chars - ascii));
  const encoder = new TextEncoder();
  let at = 0;
  for (const p of parts) {
    at += encoder.encodeInto(p, out.subarray(at)).written;
  }
  return out.subarray(0, at);
}
