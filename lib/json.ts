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
 * A string can also be kept as bytes and never become a string at all
 * ({@linkcode LongStrings}): the value holds a short key in its place, and
 * the writers put the bytes there. A 307 KB string is fresh memory for the
 * engine (its large objects are pages of their own), about 1 ms of page
 * faults on these machines; the bytes are written into the answer as they
 * are, one chunk of it ({@linkcode jsonChunks}).
 *
 * @module
 */

/**
 * Long strings of printable ASCII (nothing JSON escapes) kept as bytes,
 * each standing in a value as a short key until that value is written by
 * {@linkcode jsonChunks}, {@linkcode jsonBytes} or
 * {@linkcode stringifyJson} with this set. A key is a NUL, this set's
 * random tag and a number: no text made elsewhere is taken for one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const strings = new LongStrings();
 * const bytes = new TextEncoder().encode("data:image/png;base64,iVBORw==");
 * const value = { overlay: strings.add(bytes) };
 * assert.equal(stringifyJson(value, { strings }), '{"overlay":"data:image/png;base64,iVBORw=="}');
 * assert.equal(jsonChunks(value, { strings })[1], bytes); // the bytes themselves
 * assert.notEqual(stringifyJson(value), stringifyJson(value, { strings })); // the key, without the set
 * ```
 */
export class LongStrings {
  readonly #tag = "\u0000" +
    Array.from(
      crypto.getRandomValues(new Uint32Array(2)),
      (n) => n.toString(36),
    )
      .join("") +
    ":";
  readonly #bytes = new Map<string, Uint8Array>();

  /**
   * The key that stands for `bytes` (kept, not copied: they must not
   * change). Throws a `RangeError` for a byte JSON would escape or that is
   * not ASCII.
   */
  add(bytes: Uint8Array): string {
    if (!isPlainAscii(bytes)) {
      throw new RangeError(
        "Only printable ASCII without quotes or backslashes",
      );
    }
    const key = this.#tag + this.#bytes.size;
    this.#bytes.set(key, bytes);
    return key;
  }

  /** The bytes `key` stands for; undefined for any other string. */
  bytesOf(key: string): Uint8Array | undefined {
    return key.startsWith(this.#tag) ? this.#bytes.get(key) : undefined;
  }
}

/** The writers' options. */
export interface JsonOptions {
  /** Keys in the value stand for these strings. */
  strings?: LongStrings | undefined;
}

/** Whether a byte is printable ASCII but `"` and `\\`. */
const plainByte = (c: number) =>
  c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c;

/** Whether every byte is printable ASCII but `"` and `\\`: four a step. */
function isPlainAscii(bytes: Uint8Array): boolean {
  const head = Math.min((4 - (bytes.byteOffset % 4)) % 4, bytes.length);
  const words = new Uint32Array(
    bytes.buffer,
    bytes.byteOffset + head,
    (bytes.length - head) >> 2,
  );
  const tail = head + 4 * words.length;
  for (let i = 0; i < head; i++) if (!plainByte(bytes[i])) return false;
  for (let i = tail; i < bytes.length; i++) {
    if (!plainByte(bytes[i])) return false;
  }
  // Per byte lane, its top bit set when the lane is under 0x20 (it
  // borrows), over 0x7e (adding 1 reaches 0x80, or it is there already), or
  // '"' or '\\' (zero after the xor, then it borrows).
  let bad = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const q = w ^ 0x22222222;
    const b = w ^ 0x5c5c5c5c;
    bad |= ((w - 0x20202020) & ~w) | (w + 0x01010101) | w |
      ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b);
  }
  return (bad & 0x80808080) === 0;
}

/** Strings this long are checked as a whole; shorter ones are stringified. */
const LONG = 1024;

/** Printable ASCII but `"` and `\`: nothing JSON would escape. */
const NOTHING_TO_ESCAPE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The JSON text of a value, in pieces; `ascii` counts the characters of
 * pieces known (or, for `long`, hoped) to be ASCII.
 */
interface JsonPieces {
  parts: string[];
  ascii: number;
  /**
   * Indices of parts that are long strings written as they are, not yet
   * checked for anything to escape (each writer checks its own way).
   */
  long: number[];
  /** Parts that are kept bytes (their place in `parts` holds ""), by index. */
  kept: Map<number, Uint8Array>;
}

function jsonPieces(
  value: unknown,
  strings: LongStrings | undefined,
): JsonPieces | undefined {
  const parts: string[] = [];
  let ascii = 0;
  const long: number[] = [];
  const kept = new Map<number, Uint8Array>();
  const path = new Set<object>();
  const write = (value: unknown, key: string): boolean => {
    if (
      value !== null && typeof value === "object" &&
      typeof (value as { toJSON?: unknown }).toJSON === "function"
    ) {
      value = (value as { toJSON(key: string): unknown }).toJSON(key);
    }
    if (typeof value === "string") {
      const bytes = strings?.bytesOf(value);
      if (bytes) {
        parts.push('"', "", '"');
        kept.set(parts.length - 2, bytes);
        ascii += 2;
      } else if (value.length >= LONG) {
        parts.push('"', value, '"');
        long.push(parts.length - 2);
        ascii += value.length + 2;
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
        const before = { ascii, long: long.length };
        parts.push(first ? "" : ",", JSON.stringify(k), ":");
        if (write((value as Record<string, unknown>)[k], k)) first = false;
        else {
          parts.length = at;
          ascii = before.ascii;
          long.length = before.long;
        }
      }
      parts.push("}");
    }
    path.delete(value);
    return true;
  };
  return write(value, "") ? { parts, ascii, long, kept } : undefined;
}

/** Long part `index` had something to escape after all: it is escaped. */
function escapeLong(pieces: JsonPieces, index: number): void {
  const text = pieces.parts[index];
  pieces.parts[index] = JSON.stringify(text).slice(1, -1);
  pieces.ascii -= text.length;
  pieces.long.splice(pieces.long.indexOf(index), 1);
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
export function stringifyJson(
  value: unknown,
  options: JsonOptions = {},
): string | undefined {
  const pieces = jsonPieces(value, options.strings);
  if (!pieces) return undefined;
  const ascii = new TextDecoder();
  for (const [index, bytes] of pieces.kept) {
    pieces.parts[index] = ascii.decode(bytes);
  }
  return escapeLongPieces(pieces).parts.join("");
}

/** Every long string with anything to escape, escaped. */
function escapeLongPieces(pieces: JsonPieces): JsonPieces {
  for (const index of [...pieces.long]) {
    if (!NOTHING_TO_ESCAPE.test(pieces.parts[index])) escapeLong(pieces, index);
  }
  return pieces;
}

/**
 * `JSON.stringify(value)` as UTF-8 bytes, in chunks: the text written piece
 * by piece into one buffer (no string of the whole text, no second copy),
 * cut where a kept string of `options.strings` goes in as its own bytes.
 * Throws a `TypeError` for what `JSON.stringify` cannot write (a cycle, a
 * BigInt) or does not (`undefined`, a function).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const strings = new LongStrings();
 * const png = new TextEncoder().encode("data:image/png;base64,iVBORw==");
 * const chunks = jsonChunks({ overlay: strings.add(png), label: "café" }, { strings });
 * assert.equal(chunks.length, 3);
 * assert.equal(chunks[1], png);
 * assert.equal(
 *   chunks.map((c) => new TextDecoder().decode(c)).join(""),
 *   '{"overlay":"data:image/png;base64,iVBORw==","label":"café"}',
 * );
 * ```
 */
export function jsonChunks(
  value: unknown,
  options: JsonOptions = {},
): Uint8Array[] {
  const pieces = jsonPieces(value, options.strings);
  if (!pieces) throw new TypeError(`${typeof value} is not JSON`);
  // A long string with something to escape (rare: base64 has nothing) ends
  // the first pass; all are then checked and escaped at once, so the
  // second pass writes every long string as it is.
  return writePieces(pieces) ?? writePieces(escapeLongPieces(pieces))!;
}

/**
 * {@linkcode jsonChunks} in one buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const data = { data: { overlay: "data:image/png;base64," + "A".repeat(400_000), label: "café" } };
 * assert.deepEqual(jsonBytes(data), new TextEncoder().encode(JSON.stringify(data)));
 * ```
 */
export function jsonBytes(
  value: unknown,
  options: JsonOptions = {},
): Uint8Array<ArrayBuffer> {
  const chunks = jsonChunks(value, options);
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
  return out;
}

/**
 * The pieces as UTF-8 chunks: the text in one buffer, each long string
 * checked where it was written, the kept strings between as they are; null
 * at the first long string that has something to escape after all.
 */
function writePieces(pieces: JsonPieces): Uint8Array[] | null {
  const { parts, ascii, long, kept } = pieces;
  // ASCII pieces take a byte per character; the rest at most three
  // (a UTF-16 unit never takes more in UTF-8).
  let chars = 0;
  for (const p of parts) chars += p.length;
  const size = ascii + 3 * (chars - ascii);
  const out = new Uint8Array(size);
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let from = 0;
  let at = 0;
  let next = 0;
  for (let i = 0; i < parts.length; i++) {
    const bytes = kept.get(i);
    if (bytes) {
      if (at > from) chunks.push(out.subarray(from, at));
      chunks.push(bytes);
      from = at;
      continue;
    }
    const p = parts[i];
    const { read, written } = encoder.encodeInto(p, out.subarray(at));
    if (i === long[next]) {
      next++;
      // Checked as bytes, four a step (a regular expression over the
      // string took four times as long: 0.17 against 0.04 ms for 400 KB).
      const plain = read === p.length &&
        isPlainAscii(out.subarray(at, at + written));
      if (!plain) return null;
    }
    at += written;
  }
  if (at > from || chunks.length === 0) chunks.push(out.subarray(from, at));
  return chunks;
}
