/**
 * The messages `_frame_writer_child.ts` writes: lists of parts from 0 bytes
 * to 5 times its ring, each byte a function of its place in the stream.
 *
 * @module
 */

/** `count` messages of one to three parts, deterministic. */
export function* writerParts(count: number): Generator<Uint8Array[]> {
  let at = 0;
  const part = (n: number) => {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++, at++) bytes[i] = (at * 7 + (at >> 8)) & 0xff;
    return bytes;
  };
  const sizes = [0, 1, 3, 4095, 4096, 4097, 20_000, 12, 70_000];
  for (let m = 0; m < count; m++) {
    const n = 1 + (m % 3);
    yield Array.from(
      { length: n },
      (_, k) => part(sizes[(m + k) % sizes.length]),
    );
  }
}

/** Every byte `count` messages write, in order. */
export function writerBytes(count: number): Uint8Array {
  const all = [...writerParts(count)].flat();
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
