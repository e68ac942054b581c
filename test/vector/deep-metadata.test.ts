// Metadata nested past MAX_JSON_DEPTH is a 400 naming the item, not a stack overflow (500). Over
// HTTP a body nested past MAX_BODY_JSON_DEPTH (64 + 8) is refused before it is parsed
// (test/http/body-depth.test.ts); metadata up to that depth, and any in-process value, is checked
// on the parsed value.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, ok, send } from "../support/http.ts";

let lh: Lakehouse;
beforeAll(async () => {
  lh = await testLakehouse();
  await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "deep", dim: 2 }));
});
afterAll(() => lh.close());

/** `levels` of objects, as JSON text (JSON.stringify itself cannot write 100,000). */
const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;

function upsertRaw(items: string[]): Promise<Response> {
  return call(lh, "/v1/vectors/indexes/deep/upsert", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"items":[${items.join(",")}]}`,
  });
}

test("metadata nested 100,000 levels is 400 validation_failed (the body is refused before parsing); nothing of the batch is written", async () => {
  const res = await upsertRaw(['{"id":"ok","vector":[1,0],"metadata":{"x":1}}', `{"id":"deep","vector":[0,1],"metadata":${nestedText(100_000)}}`]);
  expect(res.status).toBe(400);
  const { error } = await json(res);
  expect(error.code).toBe("validation_failed");
  expect(error.details).toEqual([{ path: "", message: "nests deeper than 72 levels of objects and arrays" }]);
  expect((await ok(send(lh, "GET", "/v1/vectors/indexes/deep"))).count).toBe(0);
  expect((await send(lh, "GET", "/v1/vectors/indexes/deep/items/ok")).status).toBe(404);
});

test("65 levels is refused, 64 is stored and read back whole", async () => {
  const res = await upsertRaw([`{"id":"over","vector":[1,0],"metadata":${nestedText(65)}}`]);
  expect(res.status).toBe(400);
  expect((await json(res)).error.details[0].path).toBe("items[0].metadata");
  await ok(upsertRaw([`{"id":"at-cap","vector":[1,0],"metadata":${nestedText(64)}}`]));
  const item = await ok(send(lh, "GET", "/v1/vectors/indexes/deep/items/at-cap"));
  expect(JSON.stringify(item.metadata)).toBe(nestedText(64));
});

test("in-process callers (ops.call) get the same answer", async () => {
  const metadata = JSON.parse(nestedText(100_000));
  await expect(lh.ops.call("vector.upsert", { name: "deep", items: [{ id: "x", vector: [1, 0], metadata }] })).rejects.toMatchObject({
    code: "validation_failed",
    details: [{ path: "items[0].metadata" }],
  });
});
