/**
 * Fetching `ImageInput.url` without becoming a way into the network behind
 * the server: http(s) only, allow-listed hosts only, every resolved address
 * checked (loopback, private and link-local refused unless allowed; metadata,
 * multicast and reserved ranges always refused), redirects followed by hand
 * and re-checked, and limits on time and size.
 *
 * The addresses are checked before `fetch` resolves the name again, so a DNS
 * server that answers differently the second time could still steer the
 * request; the host allow-list is what makes that a non-issue.
 *
 * @module
 */
import {
  type AddressKind,
  classifyAddress,
  clientError,
  isClientError,
  isIpAddress,
} from "../lib/mod.ts";

/** When set, `ImageInput.url` is accepted for these hosts. */
export interface UrlInputOptions {
  /** Host names (or IP literals) images may be fetched from. */
  allowHosts: readonly string[];
  /** Allow loopback, private and link-local addresses. @default false */
  allowPrivate?: boolean;
  /** Resolves a host to its addresses; @default `Deno.resolveDns` A + AAAA */
  resolveHost?: (host: string) => Promise<string[]>;
  /** Makes the checked requests (a seam for tests); @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Options of {@linkcode fetchImageUrl}. */
export interface FetchImageUrlOptions extends UrlInputOptions {
  /** Largest body in bytes. */
  maxBytes: number;
  /** Time limit for the whole fetch (DNS, redirects, body), ms. @default 10_000 */
  timeoutMs?: number;
  /** @default 3 */
  maxRedirects?: number;
  /** Aborts the fetch; the abort reason is rethrown as is. */
  signal?: AbortSignal;
}

/** Address kinds `allowPrivate` lets through; all others but public never. */
const PRIVATE_KINDS: ReadonlySet<AddressKind> = new Set([
  "loopback",
  "private",
  "link-local",
]);

function refuse(message: string, extra?: Record<string, unknown>): never {
  throw clientError("BAD_USER_INPUT", message, extra);
}

/** Lowercase, without IPv6 brackets or a trailing dot. */
function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

function parseTarget(text: string, allowHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse(`Invalid image URL "${text.slice(0, 200)}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    refuse(
      `Image URL scheme "${
        url.protocol.slice(0, -1)
      }" is not allowed: use http or https`,
    );
  }
  if (url.username || url.password) {
    refuse("Image URLs must not contain credentials");
  }
  const host = normalizeHost(url.hostname);
  const allowed = allowHosts.map(normalizeHost);
  if (!allowed.includes(host)) {
    refuse(
      `Image URL host "${host}" is not allowed: allowed hosts are ${
        allowed.map((h) => `"${h}"`).join(", ")
      }`,
      { allowedHosts: allowed },
    );
  }
  return url;
}

async function resolveWithDns(
  host: string,
  signal: AbortSignal,
): Promise<string[]> {
  const answers = await Promise.allSettled([
    Deno.resolveDns(host, "A", { signal }),
    Deno.resolveDns(host, "AAAA", { signal }),
  ]);
  const addresses = answers.flatMap((a) =>
    a.status === "fulfilled" ? a.value : []
  );
  if (addresses.length > 0) return addresses;
  const failure = answers.find((a) => a.status === "rejected");
  throw failure?.reason ?? new Error("no addresses");
}

async function checkAddresses(
  url: URL,
  options: FetchImageUrlOptions,
  signal: AbortSignal,
): Promise<void> {
  const host = normalizeHost(url.hostname);
  let addresses: string[];
  if (isIpAddress(host)) {
    addresses = [host];
  } else if (host === "localhost" || host.endsWith(".localhost")) {
    addresses = ["127.0.0.1", "::1"];
  } else {
    try {
      addresses = options.resolveHost
        ? await options.resolveHost(host)
        : await resolveWithDns(host, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      return refuse(
        `Cannot resolve image URL host "${host}": ${(error as Error).message}`,
      );
    }
  }
  for (const address of addresses) {
    const kind = classifyAddress(address);
    if (kind === "public") continue;
    if (options.allowPrivate && PRIVATE_KINDS.has(kind)) continue;
    refuse(
      `Image URL host "${host}" resolves to ${kind} address ${address}: refused` +
        (PRIVATE_KINDS.has(kind)
          ? " (start the server with --allow-private-urls to allow it)"
          : ""),
      { address, addressKind: kind },
    );
  }
}

function tooLarge(bytes: number, maxBytes: number): never {
  throw clientError(
    "IMAGE_TOO_LARGE",
    `Image is too large: more than ${bytes} bytes, the limit is ${maxBytes}`,
    { limit: maxBytes },
  );
}

async function readCapped(
  response: Response,
  maxBytes: number,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    tooLarge(declared, maxBytes);
  }
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      tooLarge(total, maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

async function fetchChecked(
  text: string,
  options: FetchImageUrlOptions,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const maxRedirects = options.maxRedirects ?? 3;
  const fetchFn = options.fetch ?? fetch;
  let url = parseTarget(text, options.allowHosts);
  for (let redirects = 0;; redirects++) {
    await checkAddresses(url, options, signal);
    const response = await fetchFn(url, {
      redirect: "manual",
      signal,
      headers: { accept: "image/png, image/jpeg" },
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (!location) {
        refuse(`Image URL answered HTTP ${response.status} without a Location`);
      }
      if (redirects >= maxRedirects) {
        refuse(`Image URL redirected more than ${maxRedirects} times`);
      }
      let next: string;
      try {
        next = new URL(location, url).href;
      } catch {
        return refuse(`Image URL redirected to an invalid URL "${location}"`);
      }
      url = parseTarget(next, options.allowHosts);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      refuse(`Cannot fetch the image URL: HTTP ${response.status}`, {
        status: response.status,
      });
    }
    return await readCapped(response, options.maxBytes);
  }
}

/**
 * Fetches an image by URL under the rules above. Refusals and fetch
 * failures throw `BAD_USER_INPUT`, bodies over `maxBytes` `IMAGE_TOO_LARGE`;
 * an abort through `options.signal` rethrows its reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options = { allowHosts: ["images.example"], maxBytes: 20_000_000 };
 * // Over the network: const bytes = await fetchImageUrl("https://images.example/cat.png", options);
 * // Refused before any request: a host not allowed.
 * await assert.rejects(fetchImageUrl("https://elsewhere.example/cat.png", options), {
 *   code: "BAD_USER_INPUT",
 * });
 * ```
 */
export async function fetchImageUrl(
  url: string,
  options: FetchImageUrlOptions,
): Promise<Uint8Array> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal
    ? AbortSignal.any([timeout, options.signal])
    : timeout;
  try {
    return await fetchChecked(url, options, signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted) {
      refuse(`Fetching the image URL timed out after ${timeoutMs / 1000} s`);
    }
    if (isClientError(error)) throw error;
    return refuse(
      `Cannot fetch the image URL: ${(error as Error).message ?? error}`,
    );
  }
}
