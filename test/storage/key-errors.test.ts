// What the storage API answers for keys the filesystem cannot hold: a segment over 255 bytes was a
// 500 ENAMETOOLONG; now it is a 400 naming the key, and an object/folder clash is a 409.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";

let lh: Lakehouse;
beforeAll(async () => {
  lh = await testLakehouse();
});
afterAll(() => lh.close());

const put = (key: string, body = "x") => call(lh, `/v1/storage/objects/${key}`, { method: "PUT", body });

test("a segment over 255 bytes is 400 validation_failed with path key, on every method", async () => {
  const key = `docs/${"a".repeat(300)}/x.txt`;
  for (const method of ["PUT", "GET", "DELETE"]) {
    const res = await call(lh, `/v1/storage/objects/${key}`, { method, body: method === "PUT" ? "x" : undefined });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toEqual({
      code: "validation_failed",
      message: "invalid object key: key has a segment (between two /) longer than 255 bytes",
      details: [{ path: "key", message: "key has a segment (between two /) longer than 255 bytes" }],
    });
  }
  expect((await call(lh, `/v1/storage/objects/${key}`, { method: "HEAD" })).status).toBe(400);
  const list = await call(lh, `/v1/storage/objects?prefix=docs/${"a".repeat(300)}/`);
  expect(list.status).toBe(400);
  expect((await json(list)).error.details[0].path).toBe("prefix");
  // Multi-byte characters count as their UTF-8 bytes: 128 × "é" is 256.
  expect((await put(`docs/${encodeURIComponent("é".repeat(128))}`)).status).toBe(400);
  expect((await put(`docs/${encodeURIComponent("é".repeat(127))}`)).status).toBe(201);
  expect((await lh.storage.store.list("docs/")).items.map((i) => i.key)).toEqual([`docs/${"é".repeat(127)}`]);
});

test("a key under an object, or naming a folder, is 409 conflict on the fs backend", async () => {
  expect((await put("clash/file")).status).toBe(201);
  const under = await put("clash/file/under");
  expect(under.status).toBe(409);
  expect((await json(under)).error.message).toBe('key "clash/file/under" cannot be stored: a parent of it is an object on this filesystem store');
  expect((await put("clash/dir/inside")).status).toBe(201);
  for (const headers of [{}, { "if-none-match": "*" }] as Record<string, string>[]) {
    const folder = await call(lh, "/v1/storage/objects/clash/dir", { method: "PUT", body: "x", headers });
    expect(folder.status).toBe(409);
    expect((await json(folder)).error.message).toBe('key "clash/dir" cannot be stored: it is a prefix of other objects on this filesystem store');
  }
  expect((await call(lh, "/v1/storage/objects/clash/dir")).status).toBe(404);
  expect((await call(lh, "/v1/storage/objects/clash/dir", { method: "DELETE" })).status).toBe(404);
  expect((await call(lh, "/v1/storage/objects/clash/file/under")).status).toBe(404);
});
