import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import { checkImageInput, readImageSource } from "../../schema/image_input.ts";

/**
 * An upload whose bytes come from a stream the test feeds: every chunk the
 * reader pulls is counted, so "never read" is observable. `size` is what
 * the multipart part declared, as a parsed upload's is.
 */
class StreamedUpload extends Blob {
  pulls = 0;
  readonly #size: number;
  readonly #chunk: Uint8Array<ArrayBuffer>;

  constructor(size: number, chunk = 100) {
    super([]);
    this.#size = size;
    this.#chunk = new Uint8Array(chunk).fill(7);
  }

  override get size(): number {
    return this.#size;
  }

  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    let sent = 0;
    return new ReadableStream({
      pull: (controller) => {
        this.pulls++;
        if (sent >= this.#size) return controller.close();
        const n = Math.min(this.#chunk.length, this.#size - sent);
        controller.enqueue(this.#chunk.slice(0, n));
        sent += n;
      },
    }, { highWaterMark: 0 });
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer;
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await new Response(this.stream()).arrayBuffer());
  }

  override async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  override slice(): Blob {
    this.pulls++;
    return new Blob([]);
  }
}

const options = { maxBytes: 1000, fetchUrl: null };

Deno.test("an oversized upload is IMAGE_TOO_LARGE before it is read", async () => {
  const upload = new StreamedUpload(2000);
  const source = checkImageInput({ file: upload });
  await assert.rejects(
    readImageSource(source, options),
    (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, "IMAGE_TOO_LARGE");
      assert.equal(
        error.message,
        "Image is too large: 2000 bytes, the limit is 1000",
      );
      return true;
    },
  );
  assert.equal(upload.pulls, 0, "no chunk of the upload was pulled");
});

Deno.test("an upload within the limit is read whole", async () => {
  const upload = new StreamedUpload(1000);
  const bytes = await readImageSource(
    checkImageInput({ file: upload }),
    options,
  );
  assert.equal(bytes.length, 1000);
  assert.ok(bytes.every((b) => b === 7));
  // Ten chunks of 100 bytes, then the end.
  assert.equal(upload.pulls, 11);
});
