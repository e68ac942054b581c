import { describe, expect, test } from "bun:test";
import { cidrContains, isLoopbackHost, parseCidr, parseIp } from "../../src/http/cidr.ts";

const inRange = (cidr: string, ip: string) => cidrContains(parseCidr(cidr)!, parseIp(ip)!);

describe("parseIp", () => {
  test("parses IPv4 and IPv6, with :: compression and an embedded IPv4 tail", () => {
    expect(parseIp("10.1.2.3")).toEqual({ family: 4, value: 0x0a010203n });
    expect(parseIp("::1")).toEqual({ family: 6, value: 1n });
    expect(parseIp("2001:db8::1")?.value).toBe((0x20010db8n << 96n) | 1n);
    expect(parseIp("64:ff9b::192.0.2.33")?.value).toBe((0x0064ff9bn << 96n) | 0xc0000221n);
    expect(parseIp("[::1]")).toEqual({ family: 6, value: 1n });
  });

  test("an IPv4-mapped IPv6 address is the IPv4 address it carries", () => {
    expect(parseIp("::ffff:127.0.0.1")).toEqual({ family: 4, value: 0x7f000001n });
  });

  test("rejects what is not an address", () => {
    for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "localhost"]) {
      expect(parseIp(bad)).toBeNull();
    }
  });
});

describe("parseCidr and cidrContains", () => {
  test("a bare address is a /32 or /128", () => {
    expect(parseCidr("10.0.0.5")?.prefix).toBe(32);
    expect(parseCidr("::1")?.prefix).toBe(128);
    expect(inRange("10.0.0.5", "10.0.0.5")).toBe(true);
    expect(inRange("10.0.0.5", "10.0.0.6")).toBe(false);
  });

  test("IPv4 ranges", () => {
    expect(inRange("10.0.0.0/8", "10.255.1.2")).toBe(true);
    expect(inRange("10.0.0.0/8", "11.0.0.1")).toBe(false);
    expect(inRange("192.168.1.0/24", "192.168.1.255")).toBe(true);
    expect(inRange("192.168.1.0/24", "192.168.2.0")).toBe(false);
    expect(inRange("0.0.0.0/0", "8.8.8.8")).toBe(true);
  });

  test("IPv6 ranges, and families never match each other", () => {
    expect(inRange("2001:db8::/32", "2001:db8:ffff::1")).toBe(true);
    expect(inRange("2001:db8::/32", "2001:db9::1")).toBe(false);
    expect(inRange("::/0", "10.0.0.1")).toBe(false);
    expect(inRange("10.0.0.0/8", "::ffff:10.1.1.1")).toBe(true);
  });

  test("invalid entries are rejected, not dropped", () => {
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8/8", "nonsense", "10.0.0.0/-1", ""]) {
      expect(parseCidr(bad)).toBeNull();
    }
  });
});

test("isLoopbackHost", () => {
  for (const host of ["127.0.0.1", "127.8.9.10", "::1", "localhost"]) expect(isLoopbackHost(host)).toBe(true);
  for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1"]) expect(isLoopbackHost(host)).toBe(false);
});
