/**
 * `ImageInput` to bytes: exactly one of an upload (`file`), `base64` or a
 * `url`, each with a size limit.
 *
 * @module
 */
import { decodeBase64Image } from "../lib/base64.ts";
import { clientError } from "../lib/errors.ts";
import { decodeImage, type RgbImage } from "../lib/image.ts";
import type { Limits, LumenContext, UrlInputOptions } from "./context.ts";
import { fetchImageUrl } from "./url_input.ts";

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
  /** URL inputs are refused when null. */
  urlInputs: UrlInputOptions | null;
  /** Time limit for a URL fetch, ms. @default 10_000 */
  urlTimeoutMs?: number;
  /** @default 3 */
  urlMaxRedirects?: number;
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
 * checkImageInput({ base64: "iVBORw0KGgo=" }); // { kind: "base64", text: "iVBORw0KGgo=" }
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
 * (`fetchImageUrl`). Oversized images throw `IMAGE_TOO_LARGE`; a URL while
 * URL inputs are off throws `BAD_USER_INPUT`.
 *
 * @example
 * ```ts
 * const bytes = await readImageSource(checkImageInput(args.image), {
 *   maxBytes: 20_000_000, urlInputs: null,
 * });
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
      if (!options.urlInputs) {
        throw clientError(
          "BAD_USER_INPUT",
          "URL inputs are disabled; start the server with --allow-url-host HOST",
        );
      }
      return await fetchImageUrl(source.url, {
        ...options.urlInputs,
        maxBytes: options.maxBytes,
        timeoutMs: options.urlTimeoutMs,
        maxRedirects: options.urlMaxRedirects,
        signal: options.signal,
      });
  }
}

/**
 * Reads a checked source into bytes under the app's limits; a URL fetch
 * stops when the request's scope aborts.
 *
 * @example
 * ```ts
 * const bytes = await readImageBytes(checkImageInput(args.image), context);
 * ```
 */
export function readImageBytes(
  source: ImageSource,
  context: LumenContext,
): Promise<Uint8Array> {
  const { limits, urlInputs } = context.lumen;
  return readImageSource(source, {
    maxBytes: limits.maxImageBytes,
    maxBase64Chars: limits.maxBase64Chars,
    urlInputs,
    urlTimeoutMs: limits.urlTimeoutMs,
    urlMaxRedirects: limits.urlMaxRedirects,
    signal: context.scope.signal,
  });
}

/**
 * Decodes image bytes under the pixel limit (checked from the header before
 * decoding), timing the decoding.
 *
 * @example
 * ```ts
 * const { image, decodeMs } = await decodeImageBytes(bytes, context.lumen.limits);
 * ```
 */
export async function decodeImageBytes(
  bytes: Uint8Array,
  limits: Pick<Limits, "maxPixels">,
): Promise<{ image: RgbImage; decodeMs: number }> {
  const start = performance.now();
  const image = await decodeImage(bytes, { maxPixels: limits.maxPixels });
  return { image, decodeMs: performance.now() - start };
}
