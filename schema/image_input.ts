/**
 * `ImageInput` to bytes: exactly one of an upload (`file`), `base64` or a
 * `url`, each with a size limit.
 *
 * @module
 */
import { clientError, decodeBase64Image } from "../lib/mod.ts";
import type { LumenContext, UrlFetcher } from "./context.ts";

/** The `ImageInput` GraphQL input as resolvers receive it. */
export interface ImageInputArg {
  file?: unknown;
  base64?: string | null;
  url?: string | null;
}

/** A validated image source, not read yet. */
export type ImageSource =
  | { kind: "file"; file: Blob }
  | { kind: "base64"; text: string }
  | { kind: "url"; url: string };

/** Options of {@linkcode readImageSource}. */
export interface ReadImageOptions {
  /** Largest image in bytes. */
  maxBytes: number;
  /** Longest base64 text, in characters. @default no limit but `maxBytes` */
  maxBase64Chars?: number;
  /** Fetches URL inputs; null: they are refused. */
  fetchUrl: UrlFetcher | null;
  /** Aborts a URL fetch (e.g. when the client goes away). */
  signal?: AbortSignal;
}

const FIELDS = ["file", "base64", "url"] as const;

/**
 * Checks that exactly one source is given, without reading it. Throws
 * `BAD_USER_INPUT` otherwise, or when `file` is not an upload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkImageInput({ base64: "iVBORw0KGgo=" }), { kind: "base64", text: "iVBORw0KGgo=" });
 * assert.throws(
 *   () => checkImageInput({ base64: "iVBORw0KGgo=", url: "https://x/cat.png" }),
 *   { code: "BAD_USER_INPUT", message: /exactly one of "file", "base64" or "url", got "base64" and "url"/ },
 * );
 * ```
 */
export function checkImageInput(input: ImageInputArg): ImageSource {
  const given = FIELDS.filter((f) =>
    input[f] !== undefined && input[f] !== null
  );
  if (given.length !== 1) {
    throw clientError(
      "BAD_USER_INPUT",
      `ImageInput needs exactly one of "file", "base64" or "url", got ${
        given.length === 0 ? "none" : given.map((f) => `"${f}"`).join(" and ")
      }`,
    );
  }
  if (input.file !== undefined && input.file !== null) {
    if (!(input.file instanceof Blob)) {
      throw clientError(
        "BAD_USER_INPUT",
        'ImageInput "file" must be a multipart upload (GraphQL multipart request spec); send text images as "base64"',
      );
    }
    return { kind: "file", file: input.file };
  }
  if (typeof input.base64 === "string") {
    return { kind: "base64", text: input.base64 };
  }
  return { kind: "url", url: input.url as string };
}

function tooLarge(bytes: number, maxBytes: number): never {
  throw clientError(
    "IMAGE_TOO_LARGE",
    `Image is too large: ${bytes} bytes, the limit is ${maxBytes}`,
    { limit: maxBytes },
  );
}

/**
 * Reads a checked image source into bytes: an upload (size checked before
 * reading), base64 (`decodeBase64Image`) or, when enabled, a URL
 * (the server's fetcher). Oversized images throw `IMAGE_TOO_LARGE`; a URL
 * while URL inputs are off throws `BAD_USER_INPUT`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const png = await Deno.readFile("tests/fixtures/chelsea.png");
 * // An upload: `args.image` is { file } in a multipart request.
 * const source = checkImageInput({ file: new File([png], "chelsea.png") });
 * const bytes = await readImageSource(source, { maxBytes: 20_000_000, fetchUrl: null });
 * assert.deepEqual(bytes, png);
 * await assert.rejects(readImageSource(source, { maxBytes: 1_000, fetchUrl: null }), {
 *   code: "IMAGE_TOO_LARGE",
 * });
 * await assert.rejects(
 *   readImageSource(checkImageInput({ url: "https://x/cat.png" }), { maxBytes: 1_000, fetchUrl: null }),
 *   { code: "BAD_USER_INPUT" }, // URL inputs are off
 * );
 * ```
 */
export async function readImageSource(
  source: ImageSource,
  options: ReadImageOptions,
): Promise<Uint8Array> {
  switch (source.kind) {
    case "file": {
      if (source.file.size > options.maxBytes) {
        tooLarge(source.file.size, options.maxBytes);
      }
      return new Uint8Array(await source.file.arrayBuffer());
    }
    case "base64": {
      const max = options.maxBase64Chars ?? Infinity;
      if (source.text.length > max) {
        throw clientError(
          "IMAGE_TOO_LARGE",
          `Base64 image is too long: ${source.text.length} characters, the limit is ${max}`,
          { limit: max },
        );
      }
      return decodeBase64Image(source.text, options.maxBytes);
    }
    case "url":
      if (!options.fetchUrl) {
        throw clientError(
          "BAD_USER_INPUT",
          "URL inputs are disabled; start the server with --allow-url-host HOST",
        );
      }
      return await options.fetchUrl(source.url, {
        maxBytes: options.maxBytes,
        signal: options.signal ?? new AbortController().signal,
      });
  }
}

/**
 * Reads a checked source into bytes under the app's limits; a URL fetch
 * stops when the request's scope aborts.
 *
 * @example
 * ```ts ignore
 * // In a resolver: `context` is the GraphQL context (its limits and URL fetcher).
 * const bytes = await readImageBytes(checkImageInput(args.image), context);
 * ```
 */
export function readImageBytes(
  source: ImageSource,
  context: LumenContext,
): Promise<Uint8Array> {
  const { limits, fetchUrl } = context.lumen;
  return readImageSource(source, {
    maxBytes: limits.maxImageBytes,
    maxBase64Chars: limits.maxBase64Chars,
    fetchUrl,
    signal: context.scope.signal,
  });
}
