// The Host/Origin gate (src/http/host.ts): DNS rebinding in dev mode, the allowed_hosts list, and
// requests without a usable Host. In-process through the whole app; test/http/wire.test.ts sends
// the same over a real socket.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { configSchema } from "../../src/config/schema.ts";
import { hostName, normalizeAllowedHost, originHostName } from "../../src/http/host.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { tempDir } from "../support/tmp.ts";

type Lh = Awaited<ReturnType<typeof testLakehouse>>;

const get = (lh: Lh, path: string, headers: Record<string, string>, token?: string) => call(lh, path, { headers }, { token });

async function expectCode(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = await json(res);
  expect(body.error.code).toBe(code);
  return body.error.message as string;
}

// The issue's reproduction: a page on evil.example.com rebound to 127.0.0.1 posting SQL.
const rebound = (lh: Lh, host: string, origin?: string) =>
  call(lh, "/v1/sql", {
    method: "POST",
    headers: { host, ...(origin ? { origin } : {}), "content-type": "application/json" },
    body: JSON.stringify({ sql: "select * from secret" }),
  });

describe("parsing", () => {
  test("hostName: the name of a Host value, port dropped, lower case; null when unusable", () => {
    expect(hostName("localhost")).toBe("localhost");
    expect(hostName("LocalHost:3110")).toBe("localhost");
    expect(hostName("127.0.0.1:1")).toBe("127.0.0.1");
    expect(hostName("[::1]:3110")).toBe("[::1]");
    expect(hostName("[::1]")).toBe("[::1]");
    expect(hostName("Evil.Example.COM")).toBe("evil.example.com");
    for (const bad of ["", " ", "a b", "a, b", "a,b", "a@b", "a/b", "::1", "[::1", "host:", "host:123456", "host:x", "a\tb"]) {
      expect(hostName(bad)).toBeNull();
    }
  });

  test("originHostName: the host of a serialized origin; null for 'null' and anything else", () => {
    expect(originHostName("http://localhost:5173")).toBe("localhost");
    expect(originHostName("https://EVIL.example.com")).toBe("evil.example.com");
    expect(originHostName("http://[::1]:3110")).toBe("[::1]");
    expect(originHostName("chrome-extension://abcdef")).toBe("abcdef");
    for (const bad of ["null", "", "localhost", "http://", "http://localhost/", "http://a b", "http://user@localhost"]) expect(originHostName(bad)).toBeNull();
  });

  test("normalizeAllowedHost: names and IP literals, lower case, IPv6 in brackets; no ports or schemes", () => {
    expect(normalizeAllowedHost("Lakehouse.Internal")).toBe("lakehouse.internal");
    expect(normalizeAllowedHost("my_service")).toBe("my_service");
    expect(normalizeAllowedHost("10.0.0.5")).toBe("10.0.0.5");
    expect(normalizeAllowedHost("fe80::1")).toBe("[fe80::1]");
    expect(normalizeAllowedHost("[fe80::1]")).toBe("[fe80::1]");
    for (const bad of ["", "http://x", "x:80", "a b", "-x", "x..y", "[x]", "a".repeat(64), "*.example.com"]) expect(normalizeAllowedHost(bad)).toBeNull();
  });

  test("server.allowed_hosts is checked at start-up, naming the bad entry", () => {
    const ok = v.safeParse(configSchema, { server: { allowed_hosts: ["a.example", "::2"] } });
    expect(ok.success).toBe(true);
    const bad = v.safeParse(configSchema, { server: { allowed_hosts: ["a.example", "http://b.example:80"] } });
    expect(bad.success).toBe(false);
    expect(bad.issues?.[0]?.message).toMatch(/no scheme, no port/);
    expect(v.getDotPath(bad.issues![0]!)).toBe("server.allowed_hosts.1");
  });

  test("LH_SERVER_ALLOWED_HOSTS sets the list from the environment; a bad entry stops start-up naming the key", () => {
    const defaultPath = join(tempDir("lh-none-"), "lakehouse.toml");
    const { config } = loadConfig({ defaultPath, env: { LH_SERVER_ALLOWED_HOSTS: "lakehouse.internal, 10.0.0.5" } });
    expect(config.server.allowed_hosts).toEqual(["lakehouse.internal", "10.0.0.5"]);
    expect(() => loadConfig({ defaultPath, env: { LH_SERVER_ALLOWED_HOSTS: "lakehouse.internal:8080" } })).toThrow(/server\.allowed_hosts/);
  });
});

describe("dev mode (no token): only loopback names and server.allowed_hosts are answered", () => {
  let lh: Lh;
  beforeAll(async () => {
    lh = await testLakehouse({ server: { allowed_hosts: ["lakehouse.internal", "10.0.0.5", "::2"] } });
    await ingestOk(lh, "secret", "a\n42\n");
  });
  afterAll(() => lh.close());

  test("the issue's request: Host and Origin evil.example.com → 403 forbidden_host, no data", async () => {
    const res = await rebound(lh, "evil.example.com", "http://evil.example.com");
    const text = await res.clone().text();
    expect(await expectCode(res, 403, "forbidden_host")).toContain('Host "evil.example.com" is not allowed');
    expect(text).not.toContain("42");
    // The same statement from a local client answers, so the 403 is the gate's doing.
    const local = await rebound(lh, "127.0.0.1:3110");
    expect(local.status).toBe(200);
    expect((await json(local)).rows).toEqual([[42]]);
  });

  test("loopback names on any port and in any case pass, on every route", async () => {
    for (const host of ["localhost", "localhost:3110", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:65535", "[::1]", "[::1]:3110"]) {
      expect((await get(lh, "/health", { host })).status).toBe(200);
      expect((await get(lh, "/v1/storage/objects", { host })).status).toBe(200);
    }
  });

  test("any other name is refused on every route: health, /v1, unknown paths", async () => {
    for (const host of [
      "evil.example.com",
      "evil.example.com:3110",
      "localhost.evil.example.com",
      "localhost.",
      "127.0.0.2:3110",
      "0.0.0.0",
      "[::ffff:127.0.0.1]",
    ]) {
      for (const path of ["/health", "/v1/storage/objects", "/v1/openapi.json", "/nope"]) {
        await expectCode(await get(lh, path, { host }), 403, "forbidden_host");
      }
    }
  });

  test("names in server.allowed_hosts pass, on any port and in any case; their sub-domains do not", async () => {
    for (const host of ["lakehouse.internal", "Lakehouse.Internal:8080", "10.0.0.5:80", "[::2]", "[::2]:3110"]) {
      expect((await get(lh, "/v1/storage/objects", { host })).status, host).toBe(200);
    }
    await expectCode(await get(lh, "/health", { host: "api.lakehouse.internal" }), 403, "forbidden_host");
    await expectCode(await get(lh, "/health", { host: "10.0.0.6" }), 403, "forbidden_host");
  });

  test("Origin, when present, must name an allowed host too", async () => {
    const host = "127.0.0.1:3110";
    for (const origin of ["http://localhost:5173", "https://127.0.0.1", "http://[::1]:8080", "http://lakehouse.internal"]) {
      expect((await get(lh, "/v1/storage/objects", { host, origin })).status, origin).toBe(200);
    }
    const message = await expectCode(await get(lh, "/health", { host, origin: "http://evil.example.com" }), 403, "forbidden_host");
    expect(message).toContain('Origin "http://evil.example.com" is not allowed');
    expect(message).toContain("server.allowed_hosts");
    await expectCode(await rebound(lh, host, "https://evil.example.com:443"), 403, "forbidden_host");
    // The opaque origin of a sandboxed frame or a file: page names no host.
    await expectCode(await get(lh, "/health", { host, origin: "null" }), 403, "forbidden_host");
    await expectCode(await get(lh, "/health", { host, origin: "garbage" }), 403, "forbidden_host");
  });

  test("an accepted request does not let the next, different one through", async () => {
    expect((await get(lh, "/health", { host: "localhost:3110" })).status).toBe(200);
    await expectCode(await get(lh, "/health", { host: "evil.example.com" }), 403, "forbidden_host");
    expect((await get(lh, "/health", { host: "localhost:3110", origin: "http://localhost:3110" })).status).toBe(200);
    await expectCode(await get(lh, "/health", { host: "localhost:3110", origin: "http://evil.example.com" }), 403, "forbidden_host");
    await expectCode(await get(lh, "/health", { host: "localhost:3110", origin: "http://evil.example.com" }), 403, "forbidden_host");
  });

  test("a refusal is in the envelope, carries the request id and quotes a long header only in part", async () => {
    const res = await get(lh, "/health", { host: `${"a".repeat(5000)}.example`, "x-request-id": "rebind-1" });
    expect(res.headers.get("x-request-id")).toBe("rebind-1");
    expect(res.headers.get("content-type")).toContain("application/json");
    const message = await expectCode(res, 403, "forbidden_host");
    expect(message.length).toBeLessThan(400);
  });
});

describe("requests without a usable Host → 400, whatever the auth mode", () => {
  for (const token of ["", "t0ken"]) {
    test(token ? "with a token" : "dev mode", async () => {
      const lh = await testLakehouse({ auth: { token } });
      try {
        for (const host of ["", " ", "a b", "localhost, evil.example.com", "a@b", "localhost:x", "[::1]:1:1"]) {
          const message = await expectCode(await get(lh, "/health", { host }, token || undefined), 400, "bad_request");
          expect(message).toMatch(/Host/);
        }
      } finally {
        await lh.close();
      }
    });
  }
});

describe("with a token", () => {
  test("and no allowed_hosts: names are not checked (the browser cannot present the token)", async () => {
    const lh = await testLakehouse({ auth: { token: "t0ken" } });
    try {
      const evil = { host: "evil.example.com", origin: "http://evil.example.com" };
      expect(await json(get(lh, "/health", evil))).toEqual({ status: "ok" });
      await expectCode(await get(lh, "/v1/storage/objects", evil), 401, "unauthorized");
      expect((await get(lh, "/v1/storage/objects", evil, "t0ken")).status).toBe(200);
      expect((await get(lh, "/v1/storage/objects", { host: "10.1.2.3:3110" }, "t0ken")).status).toBe(200);
    } finally {
      await lh.close();
    }
  });

  test("and allowed_hosts set: the list (and the loopback names) is enforced, before auth", async () => {
    const lh = await testLakehouse({ auth: { token: "t0ken" }, server: { allowed_hosts: ["lakehouse.example.com"] } });
    try {
      await expectCode(await get(lh, "/v1/storage/objects", { host: "evil.example.com" }, "t0ken"), 403, "forbidden_host");
      await expectCode(await get(lh, "/health", { host: "evil.example.com" }), 403, "forbidden_host");
      const message = await expectCode(await get(lh, "/health", { host: "lakehouse.example.com", origin: "https://evil.example.com" }), 403, "forbidden_host");
      expect(message).toContain("not in server.allowed_hosts");
      expect((await get(lh, "/v1/storage/objects", { host: "lakehouse.example.com:443" }, "t0ken")).status).toBe(200);
      expect((await get(lh, "/v1/storage/objects", { host: "localhost:3110" }, "t0ken")).status).toBe(200);
      await expectCode(await get(lh, "/v1/storage/objects", { host: "lakehouse.example.com" }), 401, "unauthorized");
    } finally {
      await lh.close();
    }
  });
});
