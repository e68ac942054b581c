// The storage operations called in-process (ops.call) answer what the HTTP routes answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LakehouseError } from "../../src/errors.ts";
import type { ObjectRead } from "../../src/storage/operations.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";

type Lh = Awaited<ReturnType<typeof testLakehouse>>;

const streamOf = (text: string) => new Response(text).body!;
const text = (out: ObjectRead) => new Response(out.body as never).text();

async function failure(p: Promise<unknown>): Promise<LakehouseError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LakehouseError);
  return err as LakehouseError;
}

describe("storage operations in-process", () => {
  let lh: Lh;
  beforeAll(async () => {
    lh = await testLakehouse({ storage: { max_object_bytes: 1000 } });
  });
  afterAll(() => lh.close());

  test("storage.put takes a stream; storage.get, head and list see what HTTP sees", async () => {
    const put = await lh.ops.call("storage.put", { key: "docs/a.txt", stream: { body: streamOf("0123456789"), length: 10 } });
    expect(put).toMatchObject({ key: "docs/a.txt", size: 10 });
    // A stream without a declared length takes the streaming path.
    await lh.ops.call("storage.put", { key: "docs/b.txt", stream: { body: streamOf("bee") } });

    const got = await lh.ops.call<ObjectRead>("storage.get", { key: "docs/a.txt" });
    expect(await text(got)).toBe("0123456789");
    expect(got.info).toEqual(put as never);
    expect(got.range).toBeUndefined();
    const overHttp = await call(lh, "/v1/storage/objects/docs/a.txt");
    expect(overHttp.headers.get("etag")).toBe(`"${got.info.etag}"`);

    const part = await lh.ops.call<ObjectRead>("storage.get", { key: "docs/a.txt", range: "bytes=-4" });
    expect(part.range).toEqual({ start: 6, end: 9 });
    expect(part.length).toBe(4);
    expect(await text(part)).toBe("6789");

    expect(await lh.ops.call("storage.head", { key: "docs/a.txt" })).toEqual(put);
    const list = await lh.ops.call("storage.list", { prefix: "docs/", limit: 10 });
    expect(list).toEqual(await json(await call(lh, "/v1/storage/objects?prefix=docs/&limit=10")));
    expect((list as { items: { key: string }[] }).items.map((i) => i.key)).toEqual(["docs/a.txt", "docs/b.txt"]);

    expect(await lh.ops.call("storage.delete", { key: "docs/b.txt" })).toBeUndefined();
    expect((await failure(lh.ops.call("storage.head", { key: "docs/b.txt" }))).code).toBe("not_found");
    expect((await failure(lh.ops.call("storage.get", { key: "docs/a.txt", range: "bytes=50-" }))).code).toBe("range_not_satisfiable");
  });

  test("only_if_absent creates once, then conflict; the cap and the reserved prefixes hold in-process too", async () => {
    await lh.ops.call("storage.put", { key: "once.json", only_if_absent: true, stream: { body: streamOf("v1") } });
    expect((await failure(lh.ops.call("storage.put", { key: "once.json", only_if_absent: true, stream: { body: streamOf("v2") } }))).code).toBe("conflict");
    const big = "x".repeat(1001);
    expect((await failure(lh.ops.call("storage.put", { key: "big.bin", stream: { body: streamOf(big), length: 1001 } }))).code).toBe("too_large");
    expect((await failure(lh.ops.call("storage.put", { key: "big.bin", only_if_absent: true, stream: { body: streamOf(big) } }))).code).toBe("too_large");
    expect((await failure(lh.ops.call("storage.put", { key: "_catalog/x.json", stream: { body: streamOf("{}") } }))).code).toBe("reserved_prefix");
    expect((await failure(lh.ops.call("storage.delete", { key: "_journal/1.json" }))).code).toBe("reserved_prefix");
  });

  test("a bad input is validation_failed naming the field", async () => {
    const err = await failure(lh.ops.call("storage.list", { limit: 0 }));
    expect(err.code).toBe("validation_failed");
    expect((err.details as { path: string }[]).map((d) => d.path)).toEqual(["limit"]);
    const flag = await failure(lh.ops.call("storage.put", { key: "k", only_if_absent: 1, stream: { body: null } }));
    expect(flag.code).toBe("validation_failed");
    expect((flag.details as { path: string }[]).map((d) => d.path)).toEqual(["only_if_absent"]);
  });
});

describe("HEAD over HTTP is the storage.head operation", () => {
  let lh: Lh;
  beforeAll(async () => {
    lh = await testLakehouse();
  });
  afterAll(() => lh.close());

  test("headers only when present; a bare 404 when missing", async () => {
    await call(lh, "/v1/storage/objects/h/a.txt", { method: "PUT", body: "hello" });
    const head = await call(lh, "/v1/storage/objects/h/a.txt", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("5");
    expect(head.headers.get("etag")).toMatch(/^".+"$/);
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    expect(await head.text()).toBe("");
    const missing = await call(lh, "/v1/storage/objects/h/none.txt", { method: "HEAD" });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBeNull();
    expect(await missing.text()).toBe("");
    // GET on the same path still reaches storage.get.
    expect(await (await call(lh, "/v1/storage/objects/h/a.txt")).text()).toBe("hello");
  });

  test("the OpenAPI document has the five operations", async () => {
    const doc = await json(await call(lh, "/v1/openapi.json"));
    expect(Object.keys(doc.paths["/v1/storage/objects/{key}"]).sort()).toEqual(["delete", "get", "head", "put"]);
    expect(doc.paths["/v1/storage/objects/{key}"].put.parameters.map((p: { name: string }) => p.name)).toEqual(["key", "If-None-Match"]);
    expect(Object.keys(doc.paths["/v1/storage/objects/{key}"].get.responses)).toEqual(expect.arrayContaining(["200", "206", "404", "416"]));
    expect(Object.keys(doc.paths["/v1/storage/objects"])).toEqual(["get"]);
  });
});
