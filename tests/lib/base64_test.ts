import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import {
  base64DataUrl,
  base64DataUrlBytes,
  decodeBase64Image,
  encodeBase64,
} from "../../lib/base64.ts";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_MAGIC_BYTES = new Uint8Array(PNG_MAGIC);

function isClientError(code: string, pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ClientError, `not a ClientError: ${error}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  };
}

Deno.test("encodeBase64 produces standard padded base64", () => {
  assert.equal(encodeBase64(new Uint8Array(PNG_MAGIC)), "iVBORw0KGgo=");
  assert.equal(encodeBase64(new Uint8Array([0xfb, 0xff])), "+/8=");
  assert.equal(encodeBase64(new Uint8Array(0)), "");
});

Deno.test("decodeBase64Image accepts plain base64 and data URLs", () => {
  for (
    const text of [
      "iVBORw0KGgo=",
      "iVBORw0KGgo",
      "data:image/png;base64,iVBORw0KGgo=",
      "  DATA:image/png;charset=x;BASE64,iVBO\nRw0K\r\n Ggo= \n",
    ]
  ) {
    assert.deepEqual([...decodeBase64Image(text, 100)], PNG_MAGIC, text);
  }
});

Deno.test("decodeBase64Image accepts the URL-safe alphabet", () => {
  assert.deepEqual([...decodeBase64Image("-_8", 10)], [0xfb, 0xff]);
  assert.deepEqual([...decodeBase64Image("+/8=", 10)], [0xfb, 0xff]);
});

Deno.test("decodeBase64Image round-trips arbitrary bytes", () => {
  const bytes = new Uint8Array(1000).map((_, i) => (i * 37 + 11) & 0xff);
  assert.deepEqual(decodeBase64Image(encodeBase64(bytes), 1000), bytes);
});

Deno.test("decodeBase64Image rejects malformed input", () => {
  const cases: [string, RegExp][] = [
    ["iVBO*w0K", /^Invalid base64: unexpected character "\*"/],
    ["iVBORw0KG", /^Invalid base64: truncated/],
    ["iV=BO", /^Invalid base64: data after padding/],
    ["iVBOR===", /^Invalid base64: bad padding/],
    ["", /^Invalid base64: empty/],
    ["data:image/png;base64,", /^Invalid base64: empty/],
    ["data:image/png,iVBORw0KGgo=", /^Invalid base64: .*not base64/],
    ["data:image/png;base64", /^Invalid base64: malformed data URL/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => decodeBase64Image(text, 100),
      isClientError("INVALID_IMAGE", pattern),
      text,
    );
  }
});

Deno.test("decodeBase64Image enforces the size limit before decoding", () => {
  const text = encodeBase64(new Uint8Array(12)); // 16 characters
  assert.equal(decodeBase64Image(text, 12).length, 12);
  assert.throws(
    () => decodeBase64Image(text, 11),
    isClientError("IMAGE_TOO_LARGE", /limit is 11/),
  );
  // A huge payload is refused by length alone, even if it is not base64.
  assert.throws(
    () => decodeBase64Image("*".repeat(10_000), 100),
    isClientError("IMAGE_TOO_LARGE", /limit is 100/),
  );
});

Deno.test("decodeBase64Image: wrapped lines, either alphabet, mixed alphabets and no padding give the same bytes", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const length of [1, 2, 3, 4, 57, 1000, 4099]) {
    const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
    const plain = encodeBase64(bytes);
    const url = plain.replaceAll("+", "-").replaceAll("/", "_");
    const variants = {
      plain,
      wrapped: plain.replace(/.{76}/g, "$&\n"),
      crlf: plain.replace(/.{64}/g, "$&\r\n"),
      url,
      unpadded: url.replace(/=+$/, ""),
      // One character of the other alphabet: the scanning decoder's case.
      mixed: plain.includes("+") ? plain.replace("/", "_") : url,
      spaced: ` ${plain.slice(0, 2)} ${plain.slice(2)} `,
    };
    for (const [name, text] of Object.entries(variants)) {
      assert.deepEqual(
        decodeBase64Image(text, 1 << 20),
        bytes,
        `${name}, ${length} bytes`,
      );
    }
  }
});

Deno.test("decodeBase64Image: a fault deep in a long payload is named with its position", () => {
  const text = "data:image/png;base64," + "QUJD".repeat(1000) + "*" + "QUJD";
  assert.throws(
    () => decodeBase64Image(text, 1 << 20),
    (e: Error) =>
      e.message ===
        `Invalid base64: unexpected character "*" at position ${
          text.indexOf("*")
        }`,
  );
  const over = "QUJD".repeat(1000);
  assert.throws(
    () => decodeBase64Image(over, 2999),
    (e: Error & { code?: string }) => e.code === "IMAGE_TOO_LARGE",
  );
  assert.equal(decodeBase64Image(over, 3000).length, 3000);
});

Deno.test("base64DataUrl: the prefix and the engine's base64, for every length and any bytes", () => {
  const expected = (bytes: Uint8Array) =>
    `data:image/png;base64,${bytes.toBase64()}`;
  for (let n = 0; n < 200; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    assert.equal(base64DataUrl(bytes, "image/png"), expected(bytes));
  }
  // Every 12-bit digit pair, then a large one, then a small one again
  // (the buffer it reuses is longer than the text: only its start counts).
  const all = new Uint8Array(4096 * 3);
  for (let v = 0; v < 4096; v++) {
    const group = (v << 12) | (4095 - v); // v in the high digits, 4095 - v in the low
    all.set([group >> 16, (group >> 8) & 0xff, group & 0xff], v * 3);
  }
  assert.equal(base64DataUrl(all, "image/png"), expected(all));
  const large = crypto.getRandomValues(new Uint8Array(60_000));
  assert.equal(base64DataUrl(large, "image/png"), expected(large));
  assert.equal(
    base64DataUrl(PNG_MAGIC_BYTES, "image/png"),
    "data:image/png;base64,iVBORw0KGgo=",
  );
  assert.equal(
    base64DataUrl(new Uint8Array(0), "text/plain"),
    "data:text/plain;base64,",
  );
  // A type past ASCII (three UTF-8 bytes a character) is kept as given.
  assert.equal(
    base64DataUrl(PNG_MAGIC_BYTES, "image/ʘ€"),
    "data:image/ʘ€;base64,iVBORw0KGgo=",
  );
});

Deno.test("base64DataUrl: past the reused buffer's limit (8 MiB of text) the URL is still whole", () => {
  const bytes = new Uint8Array(7 * 1024 * 1024).fill(0xab);
  bytes[bytes.length - 1] = 1;
  const url = base64DataUrl(bytes, "image/png");
  assert.equal(url, `data:image/png;base64,${bytes.toBase64()}`);
  assert.equal(
    base64DataUrl(new Uint8Array([1, 2]), "image/png"),
    "data:image/png;base64,AQI=",
  );
});

Deno.test("base64DataUrlBytes: base64DataUrl's text as bytes of their own, for every length", () => {
  const text = new TextDecoder();
  for (let n = 0; n < 100; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    const url = base64DataUrlBytes(bytes, "image/png");
    assert.equal(text.decode(url), `data:image/png;base64,${bytes.toBase64()}`);
    assert.equal(url.byteOffset, 0);
    assert.equal(url.buffer.byteLength, url.length); // no slack kept alive
  }
  const large = new Uint8Array(300_001).map((_, i) => (i * 7919) >> 3);
  assert.equal(
    text.decode(base64DataUrlBytes(large, "image/png")),
    `data:image/png;base64,${large.toBase64()}`,
  );
  assert.equal(
    text.decode(base64DataUrlBytes(PNG_MAGIC_BYTES, "image/ʘ€")),
    "data:image/ʘ€;base64,iVBORw0KGgo=",
  );
});
