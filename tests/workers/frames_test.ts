import assert from "node:assert/strict";
import {
  decodeFrames,
  encodeFrame,
  encodeFrameParts,
  FrameError,
  framesFrom,
  readFrames,
  readFramesFrom,
} from "../../workers/frames.ts";

Deno.test("frames carry JSON and binary arrays without copying them into numbers", () => {
  const message = {
    type: "event",
    id: 7,
    data: {
      heatmap: { values: new Float32Array([0.5, 1, -2]), width: 3 },
      overlay: new Uint8Array([137, 80, 78, 71]),
      nested: [new Uint8Array([1]), "text", null],
    },
  };
  const frame = encodeFrame(message);
  // 3 floats (12 bytes) and 5 bytes travel raw, not as JSON numbers.
  assert.ok(!new TextDecoder().decode(frame).includes("137,80"));
  const [decoded] = decodeFrames([frame]) as (typeof message)[];
  assert.ok(decoded.data.heatmap.values instanceof Float32Array);
  assert.deepEqual([...decoded.data.heatmap.values], [0.5, 1, -2]);
  assert.ok(decoded.data.overlay instanceof Uint8Array);
  assert.deepEqual([...decoded.data.overlay], [137, 80, 78, 71]);
  assert.deepEqual([...(decoded.data.nested[0] as Uint8Array)], [1]);
  assert.deepEqual(decoded.data.nested.slice(1), ["text", null]);
});

Deno.test("frames split anywhere across the chunks of a stream are put back together", async () => {
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  const frames = [
    encodeFrame({ a: 1 }),
    encodeFrame({ image: big }),
    encodeFrame({ b: new Float32Array([3]) }),
  ];
  const bytes = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
  }
  for (const size of [1, 7, 4096, 65536, bytes.length]) {
    const chunks = [];
    for (let i = 0; i < bytes.length; i += size) {
      chunks.push(bytes.subarray(i, i + size));
    }
    const out: unknown[] = [];
    for await (const m of readFrames(ReadableStream.from(chunks))) out.push(m);
    assert.equal(out.length, 3, `chunks of ${size}`);
    const image = (out[1] as { image: Uint8Array }).image;
    assert.equal(image.length, big.length);
    assert.ok(image.every((v, i) => v === big[i]));
    assert.deepEqual([...(out[2] as { b: Float32Array }).b], [3]);
  }
});

Deno.test("readFrames reads a stream to its end", async () => {
  const stream = ReadableStream.from([
    encodeFrame({ n: 1 }),
    encodeFrame({ n: 2 }),
  ]);
  const seen = [];
  for await (const m of readFrames(stream)) seen.push(m);
  assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);
});

/** The frames of `messages` back to back in one buffer. */
function concatenated(messages: unknown[]): Uint8Array {
  const frames = messages.map(encodeFrame);
  const bytes = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
  }
  return bytes;
}

const MIXED = [
  { small: 1 },
  // An odd-length byte array before floats: the floats must still be
  // readable as a Float32Array view (padding keeps them aligned).
  { odd: new Uint8Array([1, 2, 3]), map: new Float32Array([0.5, -1, 2.25]) },
  { image: new Uint8Array(200_003).map((_, i) => i % 253) },
  { last: "é✓" },
];

function checkMixed(out: unknown[]): void {
  assert.equal(out.length, MIXED.length);
  assert.deepEqual(out[0], MIXED[0]);
  const mixed = out[1] as { odd: Uint8Array; map: Float32Array };
  assert.deepEqual([...mixed.odd], [1, 2, 3]);
  assert.ok(mixed.map instanceof Float32Array);
  assert.deepEqual([...mixed.map], [0.5, -1, 2.25]);
  const image = (out[2] as { image: Uint8Array }).image;
  assert.equal(image.length, 200_003);
  assert.ok(image.every((v, i) => v === i % 253));
  assert.deepEqual(out[3], MIXED[3]);
}

Deno.test("a frame's parts are the message's own arrays, padded to four bytes, and join into its frame", () => {
  const image = new Uint8Array([9, 8, 7, 6, 5]);
  const map = new Float32Array([1.5]);
  const parts = encodeFrameParts({ image, map });
  assert.equal(parts[1].buffer, image.buffer); // written from where it is
  assert.equal(parts.reduce((n, p) => n + p.length, 0) % 4, 0);
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  assert.deepEqual(joined, encodeFrame({ image, map }));
  for (let i = 0; i < parts.length; i++) {
    // Every array starts on a 4-byte boundary of the frame.
    const offset = parts.slice(0, i).reduce((n, p) => n + p.length, 0);
    if (parts[i].buffer === image.buffer || parts[i].buffer === map.buffer) {
      assert.equal(offset % 4, 0);
    }
  }
});

Deno.test("framesFrom reads frames from a source that gives any number of bytes at a time", async () => {
  const bytes = concatenated(MIXED);
  for (const step of [1, 5, 4096, 65536, 1 << 20]) {
    let at = 0;
    let reads = 0;
    const out: unknown[] = [];
    for await (
      const m of framesFrom((into) => {
        reads++;
        const n = Math.min(into.length, step, bytes.length - at);
        into.set(bytes.subarray(at, at + n));
        at += n;
        return Promise.resolve(n === 0 ? null : into.subarray(0, n));
      })
    ) out.push(m);
    checkMixed(out);
    if (step === 1 << 20) {
      // The 200 KB image is read straight into its frame: a handful of
      // reads, not one per staging buffer's worth.
      assert.ok(reads <= 8, `${reads} reads`);
    }
  }
});

Deno.test("framesFrom drops an unfinished last frame and ends", async () => {
  const bytes = concatenated([{ a: 1 }, { image: new Uint8Array(100_000) }]);
  const cut = bytes.subarray(0, bytes.length - 10);
  let at = 0;
  const out: unknown[] = [];
  for await (
    const m of framesFrom((into) => {
      const n = Math.min(into.length, cut.length - at);
      into.set(cut.subarray(at, at + n));
      at += n;
      return Promise.resolve(n === 0 ? null : into.subarray(0, n));
    })
  ) out.push(m);
  assert.deepEqual(out, [{ a: 1 }]);
});

/**
 * Frames read from `bytes`, given `step` bytes at a time: `read` settles
 * when the reading ends; `sizes` are the buffers it was offered.
 */
function readAll(bytes: Uint8Array, step: number) {
  let at = 0;
  const out: unknown[] = [];
  const sizes: number[] = [];
  const read = (async () => {
    for await (
      const m of framesFrom((into) => {
        sizes.push(into.length);
        const n = Math.min(into.length, step, bytes.length - at);
        into.set(bytes.subarray(at, at + n));
        at += n;
        return Promise.resolve(n === 0 ? null : into.subarray(0, n));
      })
    ) out.push(m);
  })();
  return { read, out, sizes };
}

Deno.test("bytes that are not a frame (a library printing to stdout) fail at once, before any frame-sized buffer", async () => {
  const good = encodeFrame({ a: 1 });
  const printed = new TextEncoder().encode(
    "[6642:0x56019e987000]       99 ms: Scavenge 4.3 (5.2) -> 3.9 (6.0) MB\n",
  );
  for (const step of [1, 3, 4096]) {
    const { read, out, sizes } = readAll(
      new Uint8Array([...good, ...printed, ...good]),
      step,
    );
    await assert.rejects(read, (error: unknown) => {
      assert.ok(error instanceof FrameError, String(error));
      assert.match(error.message, /^not a frame: "\[/); // as far as was read
      return true;
    });
    // The frame before the text was read; no buffer beyond the staging one.
    assert.deepEqual(out, [{ a: 1 }]);
    assert.ok(Math.max(...sizes) <= 64 * 1024, `${Math.max(...sizes)} bytes`);
  }
});

Deno.test("a frame head with the mark but absurd sizes fails before its buffer is made", async () => {
  for (const [json, arrays] of [[2 ** 31, 0], [10, 2 ** 20]]) {
    const head = new Uint8Array(12);
    const view = new DataView(head.buffer);
    head.set(new TextEncoder().encode("LUMF"));
    view.setUint32(4, json, true);
    view.setUint32(8, arrays, true);
    const { read, sizes } = readAll(head, 4096);
    await assert.rejects(read, /frame head out of bounds/);
    assert.ok(Math.max(...sizes) <= 64 * 1024);
  }
});

Deno.test("readFrames reads a byte stream in place (BYOB), as a child's stdout is", async () => {
  const bytes = concatenated(MIXED);
  let at = 0;
  let byobRequests = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest;
      if (!request?.view) throw new Error("expected a BYOB read");
      byobRequests++;
      const view = new Uint8Array(
        request.view.buffer,
        request.view.byteOffset,
        request.view.byteLength,
      );
      const n = Math.min(view.length, 70_000, bytes.length - at);
      view.set(bytes.subarray(at, at + n));
      at += n;
      request.respond(n);
      if (at === bytes.length) controller.close();
    },
  });
  const out: unknown[] = [];
  for await (const m of readFrames(stream)) out.push(m);
  checkMixed(out);
  assert.ok(byobRequests > 0);
});

Deno.test("readFramesFrom reads a Deno reader (a file here, stdin in a worker)", async () => {
  const path = await Deno.makeTempFile({ suffix: ".frames" });
  try {
    await Deno.writeFile(path, concatenated(MIXED));
    using file = await Deno.open(path);
    const out: unknown[] = [];
    for await (const m of readFramesFrom(file)) out.push(m);
    checkMixed(out);
  } finally {
    await Deno.remove(path);
  }
});
