import assert from "node:assert/strict";
import {
  type AddressKind,
  classifyAddress,
  isIpAddress,
  isPublicAddress,
  parseIpAddress,
} from "../../lib/address.ts";

Deno.test("parseIpAddress reads IPv4 and IPv6 forms", () => {
  assert.deepEqual(parseIpAddress("10.0.0.1"), {
    version: 4,
    bytes: new Uint8Array([10, 0, 0, 1]),
  });
  const v6 = parseIpAddress("2001:db8::1");
  assert.deepEqual(v6?.version, 6);
  assert.deepEqual(
    [...v6!.bytes],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  );
  assert.deepEqual([...parseIpAddress("::")!.bytes], new Array(16).fill(0));
  assert.deepEqual(
    [...parseIpAddress("::ffff:192.168.1.2")!.bytes].slice(10),
    [0xff, 0xff, 192, 168, 1, 2],
  );
  assert.deepEqual(parseIpAddress("[fe80::1%eth0]")?.version, 6);
  assert.deepEqual(
    [...parseIpAddress("1:2:3:4:5:6:7:8")!.bytes].filter((_, i) => i % 2),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
});

Deno.test("parseIpAddress refuses host names and odd forms", () => {
  for (
    const text of [
      "",
      "example.com",
      "localhost",
      "127.1",
      "010.0.0.1",
      "256.0.0.1",
      "1.2.3.4.5",
      "0x7f.0.0.1",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::",
      ":::",
      "::ffff:1.2.3",
      "1:2:3:4:5:6:7::8",
    ]
  ) {
    assert.deepEqual(parseIpAddress(text), null, text);
    assert.deepEqual(isIpAddress(text), false, text);
  }
});

Deno.test("classifyAddress sorts addresses into ranges", () => {
  const cases: [string, AddressKind][] = [
    ["8.8.8.8", "public"],
    ["93.184.215.14", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["100.100.100.200", "metadata"],
    ["169.254.1.1", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:8.8.8.8", "public"],
    ["64:ff9b::a00:1", "private"],
    ["2002:c0a8:101::1", "private"],
    ["2002:808:808::1", "public"],
    ["fd00:ec2::254", "metadata"],
    ["fd12:3456::1", "private"],
    ["fe80::1", "link-local"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["2001::1", "reserved"],
    ["::1.2.3.4", "reserved"],
    ["4000::1", "reserved"],
    ["2606:4700:4700::1111", "public"],
    ["2a00:1450:4001:80b::200e", "public"],
  ];
  for (const [address, kind] of cases) {
    assert.deepEqual(classifyAddress(address), kind, address);
  }
});

Deno.test("isPublicAddress is true only for public addresses", () => {
  assert.deepEqual(isPublicAddress("1.1.1.1"), true);
  assert.deepEqual(isPublicAddress("[::1]"), false);
  assert.deepEqual(isPublicAddress("192.168.0.10"), false);
});

Deno.test("classifyAddress throws for non-addresses", () => {
  assert.throws(() => classifyAddress("example.com"), TypeError);
});
