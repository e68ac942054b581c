// The HTTP edge as a client sees it: health, auth, the error envelope, request ids, OpenAPI.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import * as v from "valibot";
import { requestContext } from "../../src/http/access-log.ts";
import { makeOnError } from "../../src/http/error-envelope.ts";
import type { AppEnv } from "../../src/http/env.ts";
import { memoryLogger } from "../../src/log.ts";
import { mountOperations } from "../../src/ops/http.ts";
import { op } from "../../src/ops/operation.ts";
import { OperationRegistry } from "../../src/ops/registry.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";

type Lh = Awaited<ReturnType<typeof testLakehouse>>;

async function expectEnvelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = await json(res);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(JSON.stringify(body)).not.toMatch(/\/work\/|\/tmp\/|node_modules|at .*\.ts:\d+/);
  return body.error as { code: string; message: string; details?: unknown };
}

describe("health and routing", () => {
  let lh: Lh;
  beforeAll(async () => {
    lh = await testLakehouse({ auth: { token: "t0ken" } });
  });
  afterAll(() => lh.close());

  test("GET /health is public: {status} only without the token, everything with it", async () => {
    for (const headers of [{}, { Authorization: "Bearer wrong" }, { Authorization: "t0ken" }] as Record<string, string>[]) {
      const res = await call(lh, "/health", { headers });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    }
    const body = await json(call(lh, "/health", {}, { token: "t0ken" }));
    expect(body.status).toBe("ok");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
    expect(body.modules.storage).toBe("ok");
  });

  test("unknown routes are a JSON 404, wrong methods a 405 with Allow", async () => {
    await expectEnvelope(await call(lh, "/v1/nope", {}, { token: "t0ken" }), 404, "not_found");
    await expectEnvelope(await call(lh, "/nope"), 404, "not_found");
    const res = await call(lh, "/v1/storage/objects/a/b", { method: "POST" }, { token: "t0ken" });
    await expectEnvelope(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("DELETE, GET, HEAD, PUT");
  });

  test("a request id is honoured when sane, generated otherwise, and echoed", async () => {
    const mine = await call(lh, "/health", { headers: { "X-Request-Id": "req-42" } });
    expect(mine.headers.get("x-request-id")).toBe("req-42");
    const generated = await call(lh, "/health", { headers: { "X-Request-Id": "bad id with spaces" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    const next = await call(lh, "/health");
    expect(next.headers.get("x-request-id")).not.toBe(generated.headers.get("x-request-id"));
  });

  test("the OpenAPI document lists every route with its schemas", async () => {
    const doc = await json(await call(lh, "/v1/openapi.json", {}, { token: "t0ken" }));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/v1/storage/objects/{key}", "/v1/storage/objects"]));
    expect(doc.paths["/health"].get.security).toEqual([]);
    const list = doc.paths["/v1/storage/objects"].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(["prefix", "cursor", "limit"]);
    // Result schemas are named components; the response refers to its one.
    const ref: string = list.responses["200"].content["application/json"].schema.$ref;
    expect(doc.components.schemas[ref.replace("#/components/schemas/", "")].properties.items.type).toBe("array");
  });
});

describe("health detail: for callers who would be let into /v1", () => {
  // A module that reports itself degraded, with a detail that must not reach anonymous callers.
  const degrade = (lh: Lh) => lh.modules.push({ name: "probe", health: () => ({ status: "degraded", detail: { secret_count: 7 } }), close: async () => {} });

  test("token mode: a degraded module shows as {status: degraded} without the token, with its detail with it", async () => {
    const lh = await testLakehouse({ auth: { token: "t0ken" } });
    try {
      degrade(lh);
      const anonymous = await call(lh, "/health");
      expect(anonymous.status).toBe(200);
      expect(await anonymous.text()).toBe('{"status":"degraded"}');
      const full = await json(call(lh, "/health", {}, { token: "t0ken" }));
      expect(full).toMatchObject({ status: "degraded", modules: { probe: "degraded", storage: "ok" }, details: { probe: { secret_count: 7 } } });
    } finally {
      await lh.close();
    }
  });

  test("token and allowlist: the token from outside the allowlist gets the status only, like /v1 refuses it", async () => {
    const lh = await testLakehouse({ auth: { token: "t0ken", allowed_ips: ["10.0.0.0/8"] } });
    try {
      expect(await json(call(lh, "/health", {}, { token: "t0ken", ip: "192.0.2.1" }))).toEqual({ status: "ok" });
      expect((await json(call(lh, "/health", {}, { token: "t0ken", ip: "10.1.1.1" }))).modules.storage).toBe("ok");
    } finally {
      await lh.close();
    }
  });

  test("dev mode (no token, loopback only): everyone who can ask sees it all", async () => {
    const lh = await testLakehouse();
    try {
      degrade(lh);
      const body = await json(call(lh, "/health"));
      expect(body).toMatchObject({ status: "degraded", modules: { probe: "degraded" }, details: { probe: { secret_count: 7 } } });
      expect(typeof body.version).toBe("string");
    } finally {
      await lh.close();
    }
  });

  test("in-process callers (ops.call) see it all", async () => {
    const lh = await testLakehouse({ auth: { token: "t0ken" } });
    try {
      const body = (await lh.ops.call("system.health", {}, {})) as { modules?: Record<string, string> };
      expect(body.modules?.storage).toBe("ok");
    } finally {
      await lh.close();
    }
  });
});

describe("auth", () => {
  const path = "/v1/storage/objects";
  test("token only: missing, wrong and raw tokens get 401; Bearer with the token passes", async () => {
    const lh = await testLakehouse({ auth: { token: "s3cret-token" } });
    try {
      const missing = await call(lh, path);
      await expectEnvelope(missing, 401, "unauthorized");
      expect(missing.headers.get("www-authenticate")).toContain("Bearer");
      await expectEnvelope(await call(lh, path, { headers: { Authorization: "Bearer wrong" } }), 401, "unauthorized");
      await expectEnvelope(await call(lh, path, { headers: { Authorization: "s3cret-token" } }), 401, "unauthorized");
      await expectEnvelope(await call(lh, path, { headers: { Authorization: "Basic s3cret-token" } }), 401, "unauthorized");
      await expectEnvelope(await call(lh, path, { headers: { Authorization: "Bearer s3cret-token-and-more" } }), 401, "unauthorized");
      await expectEnvelope(await call(lh, path, { headers: { Authorization: "Bearer s3cret-toke" } }), 401, "unauthorized");
      await expectEnvelope(await call(lh, path, { headers: { Authorization: "bearer s3cret-token" } }), 401, "unauthorized");
      await expectEnvelope(await call(lh, path, { headers: { Authorization: "Bearer  s3cret-token" } }), 401, "unauthorized");
      expect((await call(lh, path, { headers: { Authorization: "Bearer s3cret-token" } })).status).toBe(200);
      expect((await call(lh, "/health")).status).toBe(200);
    } finally {
      await lh.close();
    }
  });

  test("allowlist only: IPv4 and IPv6 inside pass, outside get 403", async () => {
    const lh = await testLakehouse({ auth: { allowed_ips: ["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"] } });
    try {
      expect((await call(lh, path, {}, { ip: "10.20.30.40" })).status).toBe(200);
      expect((await call(lh, path, {}, { ip: "::ffff:10.1.1.1" })).status).toBe(200);
      expect((await call(lh, path, {}, { ip: "2001:db8::5" })).status).toBe(200);
      expect((await call(lh, path, {}, { ip: "192.168.1.7" })).status).toBe(200);
      await expectEnvelope(await call(lh, path, {}, { ip: "192.168.1.8" }), 403, "forbidden");
      await expectEnvelope(await call(lh, path, {}, { ip: "2001:db9::5" }), 403, "forbidden");
      await expectEnvelope(await call(lh, path, {}, { ip: "127.0.0.1" }), 403, "forbidden");
      expect((await call(lh, "/health", {}, { ip: "8.8.8.8" })).status).toBe(200);
    } finally {
      await lh.close();
    }
  });

  test("both layers: the address must be allowed and the token right", async () => {
    const lh = await testLakehouse({ auth: { token: "tok", allowed_ips: ["127.0.0.1"] } });
    try {
      const ok = { headers: { Authorization: "Bearer tok" } };
      expect((await call(lh, path, ok, { ip: "127.0.0.1" })).status).toBe(200);
      await expectEnvelope(await call(lh, path, ok, { ip: "10.0.0.1" }), 403, "forbidden");
      await expectEnvelope(await call(lh, path, {}, { ip: "127.0.0.1" }), 401, "unauthorized");
    } finally {
      await lh.close();
    }
  });

  test("no token and no allowlist: open (dev mode)", async () => {
    const lh = await testLakehouse();
    try {
      expect((await call(lh, path, {}, { ip: "203.0.113.9" })).status).toBe(200);
    } finally {
      await lh.close();
    }
  });
});

describe("error envelope for request bodies", () => {
  // Operations declared the way every module declares its own.
  const log = memoryLogger();
  const ops = new OperationRegistry();
  const Body = v.object({ name: v.pipe(v.string(), v.minLength(1)), tags: v.array(v.string()) });
  ops.register(
    op({ name: "demo.things", method: "post", path: "/v1/demo/things", tag: "demo", summary: "t", body: Body, handler: (input) => input }),
    op({
      name: "demo.boom",
      method: "get",
      path: "/v1/demo/boom",
      tag: "demo",
      summary: "t",
      handler: () => {
        throw new Error("secret detail at /work/main/src/x.ts:12", { cause: new Error("root cause") });
      },
    }),
  );
  const app = new Hono<AppEnv>();
  app.use("*", requestContext(log, true));
  mountOperations(app, ops, { jsonLimit: 64, tokenAuth: false });
  app.onError(makeOnError(log));
  const post = (body: string, type = "application/json") => app.request("/v1/demo/things", { method: "POST", body, headers: { "Content-Type": type } });

  test("valid JSON passes validation", async () => {
    const res = await post('{"name":"a","tags":["x"]}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "a", tags: ["x"] });
  });

  test("malformed JSON → 400 malformed_json", async () => {
    await expectEnvelope(await post('{"name":'), 400, "malformed_json");
  });

  test("schema failure → 400 with field paths in details", async () => {
    const err = await expectEnvelope(await post('{"name":"","tags":["ok",3]}'), 400, "validation_failed");
    const paths = (err.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(["name", "tags[1]"]);
  });

  test("wrong content type → 415", async () => {
    await expectEnvelope(await post('{"name":"a","tags":[]}', "text/plain"), 415, "unsupported_media_type");
  });

  test("a charset other than UTF-8 → 415, naming it; UTF-8 under any of its labels passes", async () => {
    for (const type of [
      "application/json; charset=utf-16",
      "application/json;charset=ISO-8859-1",
      'application/json; charset="latin1"',
      "application/json; charset=",
      "application/problem+json; charset=utf-16le",
    ]) {
      const err = await expectEnvelope(await post('{"name":"a","tags":[]}', type), 415, "unsupported_media_type");
      expect(err.message, type).toMatch(/UTF-8.*charset=/);
    }
    for (const type of [
      "application/json; charset=utf-8",
      "application/json;charset=UTF-8",
      'application/json; charset="utf-8"',
      "application/json; charset=utf8",
      "application/json; foo=bar",
      "application/vnd.x+json",
    ]) {
      expect((await post('{"name":"a","tags":[]}', type)).status, type).toBe(200);
    }
  });

  test("a UTF-16 body → 415 when declared, 400 malformed_json when not: never read as something else", async () => {
    const utf16 = Buffer.from('{"name":"a","tags":[]}', "utf16le");
    const send = (type: string) => app.request("/v1/demo/things", { method: "POST", body: utf16, headers: { "Content-Type": type } });
    await expectEnvelope(await send("application/json; charset=utf-16le"), 415, "unsupported_media_type");
    await expectEnvelope(await send("application/json"), 400, "malformed_json");
  });

  test("invalid UTF-8 bytes → 400 malformed_json, never replaced by U+FFFD", async () => {
    const valid = new TextEncoder().encode('{"name":"caf\u00e9","tags":[]}');
    const res = await app.request("/v1/demo/things", { method: "POST", body: valid, headers: { "Content-Type": "application/json" } });
    expect(await res.json()).toEqual({ name: "café", tags: [] });
    // A lone continuation byte, a truncated sequence, an overlong encoding, a UTF-16 surrogate.
    for (const bad of [[0x80], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const body = new Uint8Array([...new TextEncoder().encode('{"name":"'), ...bad, ...new TextEncoder().encode('","tags":[]}')]);
      const r = await app.request("/v1/demo/things", { method: "POST", body, headers: { "Content-Type": "application/json" } });
      const err = await expectEnvelope(r, 400, "malformed_json");
      expect(err.message).toBe("request body is not valid UTF-8");
    }
  });

  test("body over the JSON cap → 413", async () => {
    await expectEnvelope(await post(JSON.stringify({ name: "x".repeat(100), tags: [] })), 413, "too_large");
  });

  test("an unexpected error → 500 without the detail; the log has it with the request id", async () => {
    const res = await app.request("/v1/demo/boom", { headers: { "X-Request-Id": "r-500" } });
    const err = await expectEnvelope(res, 500, "internal");
    expect(err.message).not.toContain("secret detail");
    const line = log.lines.find((l) => l.msg === "unhandled error");
    expect(line?.fields?.request_id).toBe("r-500");
    // The log has the stack and the cause, so the 500 can be explained afterwards.
    expect(String(line?.fields?.stack)).toContain("edge.test.ts");
    expect((line?.fields?.cause as { detail?: string })?.detail).toBe("root cause");
  });

  test("the access log has one JSON line per request with method, path, status, ms, bytes, id", async () => {
    const res = await app.request("/v1/demo/things", {
      method: "POST",
      body: '{"name":"a","tags":[]}',
      headers: { "Content-Type": "application/json", "X-Request-Id": "log-1" },
    });
    await res.text();
    const line = log.lines.find((l) => l.msg === "request" && l.fields?.request_id === "log-1");
    expect(line?.fields).toMatchObject({ method: "POST", path: "/v1/demo/things", status: 200, bytes: '{"name":"a","tags":[]}'.length });
    expect(typeof line?.fields?.ms).toBe("number");
  });
});

describe("storage over HTTP", () => {
  let lh: Lh;
  beforeAll(async () => {
    lh = await testLakehouse({ storage: { max_object_bytes: 1000 } });
  });
  afterAll(() => lh.close());

  test("PUT, GET, HEAD, Range, list and DELETE", async () => {
    const put = await call(lh, "/v1/storage/objects/docs/a.txt", { method: "PUT", body: "0123456789" });
    expect(put.status).toBe(201);
    expect((await json(put)).size).toBe(10);
    const get = await call(lh, "/v1/storage/objects/docs/a.txt");
    expect(await get.text()).toBe("0123456789");
    expect(get.headers.get("etag")).toMatch(/^".+"$/);
    const head = await call(lh, "/v1/storage/objects/docs/a.txt", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("10");
    const part = await call(lh, "/v1/storage/objects/docs/a.txt", { headers: { Range: "bytes=3-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 3-5/10");
    expect(await part.text()).toBe("345");
    const suffix = await call(lh, "/v1/storage/objects/docs/a.txt", { headers: { Range: "bytes=-4" } });
    expect(await suffix.text()).toBe("6789");
    await expectEnvelope(await call(lh, "/v1/storage/objects/docs/a.txt", { headers: { Range: "bytes=50-" } }), 416, "range_not_satisfiable");
    const list = await json(await call(lh, "/v1/storage/objects?prefix=docs/"));
    expect(list.items.map((i: { key: string }) => i.key)).toEqual(["docs/a.txt"]);
    expect((await call(lh, "/v1/storage/objects/docs/a.txt", { method: "DELETE" })).status).toBe(204);
    await expectEnvelope(await call(lh, "/v1/storage/objects/docs/a.txt"), 404, "not_found");
    await expectEnvelope(await call(lh, "/v1/storage/objects/docs/a.txt", { method: "DELETE" }), 404, "not_found");
  });

  test("If-None-Match: * creates once, then 409", async () => {
    const init = { method: "PUT", body: "v1", headers: { "If-None-Match": "*" } };
    expect((await call(lh, "/v1/storage/objects/once.json", init)).status).toBe(201);
    await expectEnvelope(await call(lh, "/v1/storage/objects/once.json", { ...init, body: "v2" }), 409, "conflict");
    expect(await (await call(lh, "/v1/storage/objects/once.json")).text()).toBe("v1");
  });

  test("over the cap → 413 and nothing stored; bad keys and list params → 400", async () => {
    await expectEnvelope(await call(lh, "/v1/storage/objects/big.bin", { method: "PUT", body: new Uint8Array(1001) }), 413, "too_large");
    expect((await call(lh, "/v1/storage/objects/big.bin", { method: "HEAD" })).status).toBe(404);
    // (".." in a URL path is resolved by the URL parser before routing; a decoded backslash is not.)
    await expectEnvelope(await call(lh, "/v1/storage/objects/a%5C..%5Cb", { method: "PUT", body: "x" }), 400, "validation_failed");
    await expectEnvelope(await call(lh, "/v1/storage/objects?limit=0"), 400, "validation_failed");
    await expectEnvelope(await call(lh, "/v1/storage/objects?limit=abc"), 400, "validation_failed");
  });
});
