import assert from "node:assert/strict";
import { ClientError, clientError } from "../../lib/errors.ts";
import {
  decodeFrames,
  encodeFrame,
  frameReader,
  fromErrorData,
  readFrames,
  toErrorData,
} from "../../workers/protocol.ts";

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

Deno.test("frames split anywhere across chunks are put back together", () => {
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
    const reader = frameReader();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += size) {
      out.push(...reader.push(bytes.subarray(i, i + size)));
    }
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

Deno.test("errors cross as data: client errors keep their code, others their name", () => {
  const client = fromErrorData(
    JSON.parse(
      JSON.stringify(toErrorData(clientError("TIMEOUT", "slow", { limit: 1 }))),
    ),
  );
  assert.ok(client instanceof ClientError);
  assert.equal(client.code, "TIMEOUT");
  assert.deepEqual(client.details, { limit: 1 });
  const range = fromErrorData(toErrorData(new RangeError("bad")));
  assert.equal(range.name, "RangeError");
  assert.equal(range.message, "bad");
  const aborted = fromErrorData(
    toErrorData(new DOMException("gone", "AbortError")),
  );
  assert.equal(aborted.name, "AbortError");
});
