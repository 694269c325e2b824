/**
 * Protocol Buffers wire format: the few primitives ONNX files need. A
 * writer collects its output as a list of parts, so a nested message or a
 * large weight buffer is never copied until the one final concatenation.
 *
 * @module
 */

/** Wire type of varints (the low three bits of a field tag). */
export const VARINT = 0;
/** Wire type of 8-byte fields (double). */
export const FIXED64 = 1;
/** Wire type of length-delimited fields (bytes, strings, messages, packed). */
export const BYTES = 2;
/** Wire type of 4-byte fields (float). */
export const FIXED32 = 5;

const TWO_32 = 2 ** 32;
const TWO_63 = 2 ** 63;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Byte arrays at least this long are referenced, not copied, until the end. */
const BIG = 1024;

/** Accumulates one message's encoding. */
export class Writer {
  #parts: Uint8Array[] = [];
  #scratch = new Uint8Array(256);
  #pos = 0;
  #length = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#scratch.length) return;
    this.#flush();
    this.#scratch = new Uint8Array(Math.max(4096, n));
  }

  #flush(): void {
    if (this.#pos === 0) return;
    this.#parts.push(this.#scratch.subarray(0, this.#pos));
    this.#scratch = this.#scratch.subarray(this.#pos);
    this.#pos = 0;
  }

  #byte(b: number): void {
    this.#scratch[this.#pos++] = b;
    this.#length++;
  }

  /** An unsigned or signed (two's complement, 10 bytes) 64-bit varint. */
  varint(value: number): void {
    this.#room(10);
    if (value >= 0 && value < TWO_32) {
      let v = value >>> 0;
      while (v >= 0x80) {
        this.#byte((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      this.#byte(v);
      return;
    }
    // Beyond 32 bits: BigInt keeps every bit (int64 limits are clamped,
    // since a double rounds INT64_MAX up to 2^63).
    let v = value >= TWO_63
      ? (1n << 63n) - 1n
      : value <= -TWO_63
      ? 1n << 63n
      : BigInt.asUintN(64, BigInt(Math.trunc(value)));
    while (v >= 0x80n) {
      this.#byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#byte(Number(v));
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A varint field (int32, int64, enum, bool). */
  int(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  /** A `float` field (fixed32). */
  float(field: number, value: number): void {
    this.tag(field, FIXED32);
    this.#room(4);
    new DataView(this.#scratch.buffer, this.#scratch.byteOffset)
      .setFloat32(this.#pos, value, true);
    this.#pos += 4;
    this.#length += 4;
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, BYTES);
    this.varint(data.length);
    this.raw(data);
  }

  string(field: number, value: string): void {
    this.bytes(field, encoder.encode(value));
  }

  /** Appends bytes as they are (no tag). */
  raw(data: Uint8Array): void {
    if (data.length >= BIG) {
      this.#flush();
      this.#parts.push(data);
      this.#length += data.length;
      return;
    }
    this.#room(data.length);
    this.#scratch.set(data, this.#pos);
    this.#pos += data.length;
    this.#length += data.length;
  }

  /** A nested message field, encoded by `child`. */
  message(field: number, child: Writer): void {
    this.tag(field, BYTES);
    this.varint(child.length);
    this.#flush();
    for (const part of child.parts()) this.#parts.push(part);
    this.#length += child.length;
  }

  /** A packed repeated varint field. */
  packedVarints(field: number, values: readonly number[]): void {
    const child = new Writer();
    for (const v of values) child.varint(v);
    this.tag(field, BYTES);
    this.varint(child.length);
    this.#flush();
    for (const part of child.parts()) this.#parts.push(part);
    this.#length += child.length;
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): void {
    const data = new Float32Array(values);
    this.bytes(field, new Uint8Array(data.buffer));
  }

  /** The parts written so far. */
  parts(): Uint8Array[] {
    this.#flush();
    return this.#parts;
  }

  /** Everything written, as one array. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.parts()) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** Raised when bytes are not a well-formed message. */
export class WireError extends Error {
  override name = "WireError";
}

/** Reads fields of one message from a byte range. */
export class Reader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#pos = 0;
    this.#end = buf.length;
  }

  /** The next field's number and wire type, or null at the end. */
  next(): { field: number; wire: number } | null {
    if (this.#pos >= this.#end) return null;
    const key = this.varint();
    return { field: Math.floor(key / 8), wire: key % 8 };
  }

  /** A varint as a number; negative int64 values come back negative. */
  varint(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    const buf = this.#buf;
    while (true) {
      if (this.#pos >= this.#end) throw new WireError("Truncated varint");
      const b = buf[this.#pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else if (shift < 64) hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if (b < 0x80) break;
      if (shift > 70) throw new WireError("Varint too long");
    }
    lo >>>= 0;
    if (hi & 0x80000000) {
      // Negative int64: -(two's complement).
      return -((~hi >>> 0) * TWO_32 + ((~lo >>> 0) + 1));
    }
    return (hi >>> 0) * TWO_32 + lo;
  }

  float(): number {
    this.#need(4);
    const v = new DataView(this.#buf.buffer, this.#buf.byteOffset)
      .getFloat32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  double(): number {
    this.#need(8);
    const v = new DataView(this.#buf.buffer, this.#buf.byteOffset)
      .getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  /** A length-delimited field's bytes: a view, not a copy. */
  bytes(): Uint8Array {
    const n = this.varint();
    this.#need(n);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  string(): string {
    return decoder.decode(this.bytes());
  }

  /** Repeated varints, packed or not. */
  varints(wire: number, into: number[]): void {
    if (wire !== BYTES) {
      into.push(this.varint());
      return;
    }
    const inner = new Reader(this.bytes());
    while (!inner.#done()) into.push(inner.varint());
  }

  /** Repeated floats, packed or not. */
  floats(wire: number, into: number[]): void {
    if (wire !== BYTES) {
      into.push(this.float());
      return;
    }
    const inner = new Reader(this.bytes());
    while (!inner.#done()) into.push(inner.float());
  }

  /** Repeated doubles, packed or not. */
  doubles(wire: number, into: number[]): void {
    if (wire !== BYTES) {
      into.push(this.double());
      return;
    }
    const inner = new Reader(this.bytes());
    while (!inner.#done()) into.push(inner.double());
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.#advance(8);
    else if (wire === BYTES) this.#advance(this.varint());
    else if (wire === FIXED32) this.#advance(4);
    else throw new WireError(`Unsupported wire type ${wire}`);
  }

  #done(): boolean {
    return this.#pos >= this.#end;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#end) throw new WireError("Truncated field");
  }

  #advance(n: number): void {
    this.#need(n);
    this.#pos += n;
  }
}
