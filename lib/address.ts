/**
 * IP address parsing and range classification, used to keep URL inputs from
 * reaching loopback, private, link-local or cloud-metadata addresses.
 *
 * Pure: no DNS, no I/O. Addresses are the canonical forms a WHATWG `URL`
 * hostname or a DNS answer holds: dotted-quad IPv4 and RFC 4291 IPv6 text
 * (brackets and a `%zone` suffix are tolerated).
 *
 * @module
 */

/** What an address is, as far as an outgoing request cares. */
export type AddressKind =
  /** Routable on the public internet. */
  | "public"
  /** `127.0.0.0/8`, `::1`. */
  | "loopback"
  /** RFC 1918, shared (CGNAT) space, IPv6 unique-local and site-local. */
  | "private"
  /** `169.254.0.0/16`, `fe80::/10` (metadata addresses excepted). */
  | "link-local"
  /** Cloud instance-metadata endpoints, e.g. `169.254.169.254`. */
  | "metadata"
  /** `0.0.0.0/8`, `::` (which reach the local host on many systems). */
  | "unspecified"
  /** `224.0.0.0/4`, `ff00::/8`. */
  | "multicast"
  /** Documentation, benchmarking, protocol-assignment and unallocated space. */
  | "reserved";

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export interface ParsedAddress {
  /** 4 or 6. */
  version: 4 | 6;
  /** Network-order bytes. */
  bytes: Uint8Array;
}

interface Range {
  prefix: Uint8Array;
  bits: number;
  kind: AddressKind | "embedded-v4";
  /** For `embedded-v4`: where the IPv4 address starts in the bytes. */
  offset?: number | undefined;
}

function range(cidr: string, kind: Range["kind"], offset?: number): Range {
  const [address, bits] = cidr.split("/");
  const parsed = parseIpAddress(address);
  if (!parsed) throw new Error(`Bad range ${cidr}`);
  return { prefix: parsed.bytes, bits: Number(bits), kind, offset };
}

/** Most specific first: the first match wins. */
const V4_RANGES: readonly Range[] = [
  range("169.254.169.254/32", "metadata"),
  range("169.254.170.2/32", "metadata"),
  range("100.100.100.200/32", "metadata"),
  range("0.0.0.0/8", "unspecified"),
  range("10.0.0.0/8", "private"),
  range("100.64.0.0/10", "private"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.0.0/16", "link-local"),
  range("172.16.0.0/12", "private"),
  range("192.0.0.0/24", "reserved"),
  range("192.0.2.0/24", "reserved"),
  range("192.88.99.0/24", "reserved"),
  range("192.168.0.0/16", "private"),
  range("198.18.0.0/15", "reserved"),
  range("198.51.100.0/24", "reserved"),
  range("203.0.113.0/24", "reserved"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved"),
];

const V6_RANGES: readonly Range[] = [
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("::ffff:0:0/96", "embedded-v4", 12),
  range("::/96", "reserved"),
  range("64:ff9b::/96", "embedded-v4", 12),
  range("64:ff9b:1::/48", "private"),
  range("100::/64", "reserved"),
  range("2001:db8::/32", "reserved"),
  range("2001::/23", "reserved"),
  range("2002::/16", "embedded-v4", 2),
  range("3fff::/20", "reserved"),
  range("fd00:ec2::254/128", "metadata"),
  range("fc00::/7", "private"),
  range("fe80::/10", "link-local"),
  range("fec0::/10", "private"),
  range("ff00::/8", "multicast"),
  range("2000::/3", "public"),
  range("::/0", "reserved"),
];

function matches(bytes: Uint8Array, r: Range): boolean {
  const whole = r.bits >> 3;
  for (let i = 0; i < whole; i++) {
    if (bytes[i] !== r.prefix[i]) return false;
  }
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole] & mask) === (r.prefix[whole] & mask);
}

function parseV4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  for (const group of text.split(":")) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    groups.push(parseInt(group, 16));
  }
  return groups;
}

function parseV6(text: string): Uint8Array | null {
  let body = text;
  const bytes = new Uint8Array(16);
  // An embedded IPv4 tail takes the last two groups.
  let tail: Uint8Array | null = null;
  const lastColon = body.lastIndexOf(":");
  if (lastColon >= 0 && body.includes(".", lastColon)) {
    tail = parseV4(body.slice(lastColon + 1));
    if (!tail) return null;
    body = body.slice(0, lastColon + 1) + "0:0";
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]);
  const rest = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !rest) return null;
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const groups = [...head, ...new Array(8 - total).fill(0), ...rest];
  for (let i = 0; i < 8; i++) {
    bytes[i * 2] = groups[i] >> 8;
    bytes[i * 2 + 1] = groups[i] & 0xff;
  }
  if (tail) bytes.set(tail, 12);
  return bytes;
}

/**
 * Parses a dotted-quad IPv4 or an IPv6 address; null for anything else
 * (host names, and IPv4 forms a URL parser would have normalised, such as
 * `127.1` or leading zeros). Brackets and an IPv6 zone (`%eth0`) are ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseIpAddress("::ffff:10.0.0.1")?.bytes.length, 16);
 * assert.equal(parseIpAddress("example.com"), null);
 * ```
 */
export function parseIpAddress(text: string): ParsedAddress | null {
  let address = text.trim();
  if (address.startsWith("[") && address.endsWith("]")) {
    address = address.slice(1, -1);
  }
  if (address.includes(":")) {
    const zone = address.indexOf("%");
    if (zone >= 0) address = address.slice(0, zone);
    const bytes = parseV6(address);
    return bytes ? { version: 6, bytes } : null;
  }
  const bytes = parseV4(address);
  return bytes ? { version: 4, bytes } : null;
}

/**
 * Whether `text` is an IPv4 or IPv6 address (see {@link parseIpAddress}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isIpAddress("[::1]"), true);
 * assert.equal(isIpAddress("localhost"), false);
 * ```
 */
export function isIpAddress(text: string): boolean {
  return parseIpAddress(text) !== null;
}

function classifyBytes(address: ParsedAddress): AddressKind {
  const ranges = address.version === 4 ? V4_RANGES : V6_RANGES;
  for (const r of ranges) {
    if (!matches(address.bytes, r)) continue;
    if (r.kind !== "embedded-v4") return r.kind;
    const v4 = address.bytes.slice(r.offset!, r.offset! + 4);
    return classifyBytes({ version: 4, bytes: v4 });
  }
  return "public";
}

/**
 * Classifies an IP address. IPv4-mapped (`::ffff:a.b.c.d`), NAT64
 * (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are classified by the
 * IPv4 address they carry. Throws a `TypeError` for text that is not an IP
 * address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(classifyAddress("169.254.169.254"), "metadata");
 * assert.equal(classifyAddress("::ffff:127.0.0.1"), "loopback");
 * assert.equal(classifyAddress("93.184.215.14"), "public");
 * ```
 */
export function classifyAddress(text: string): AddressKind {
  const address = parseIpAddress(text);
  if (!address) {
    throw new TypeError(`Cannot classify "${text}": not an IP address`);
  }
  return classifyBytes(address);
}

/**
 * Whether an IP address is routable on the public internet. Throws a
 * `TypeError` for text that is not an IP address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isPublicAddress("8.8.8.8"), true);
 * assert.equal(isPublicAddress("10.1.2.3"), false);
 * ```
 */
export function isPublicAddress(text: string): boolean {
  return classifyAddress(text) === "public";
}
