// A JSON body nested past MAX_BODY_JSON_DEPTH is refused from its bytes, before JSON.parse (which
// under Bun builds one object per level: 1 MiB of `[` costs ≈88 MiB). The deepest bodies the
// operations accept still pass, and a value a little too deep still gets its own, named answer.
import { afterAll, afterEach, beforeAll, expect, spyOn, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { MAX_FILTER_DEPTH } from "../../src/filter/limits.ts";
import { MAX_BODY_JSON_DEPTH } from "../../src/http/body.ts";
import { MAX_JSON_DEPTH } from "../../src/lib/json-depth.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, ok, send } from "../support/http.ts";

let lh: Lakehouse;
beforeAll(async () => {
  lh = await testLakehouse();
  await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "deep", dim: 2 }));
});
afterAll(() => lh.close());

let parse: ReturnType<typeof spyOn<JSON, "parse">> | undefined;
afterEach(() => parse?.mockRestore());

/** Spies on JSON.parse; `parsed(text)` says whether it was handed exactly `text`. */
function watchParse() {
  parse = spyOn(JSON, "parse");
  return (text: string) => parse!.mock.calls.some(([arg]) => arg === text);
}

const postRaw = (path: string, body: string) => call(lh, path, { method: "POST", headers: { "content-type": "application/json" }, body });

/** `levels` of objects, as JSON text. */
const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
const upsertBody = (metadataLevels: number, id = "x") => `{"items":[{"id":"${id}","vector":[1,0],"metadata":${nestedText(metadataLevels)}}]}`;

/** Nesting depth of a parsed value (small values only: it recurses). */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/** The deepest filter the filter language accepts: $and chains down to MAX_FILTER_DEPTH, then a field with $in. */
function deepestFilter(depth = 0): Record<string, unknown> {
  return depth === MAX_FILTER_DEPTH ? { tag: { $in: ["deep"] } } : { $and: [deepestFilter(depth + 1)] };
}

test("1 MiB of `[` is 400 validation_failed naming the body's depth limit, and never reaches JSON.parse", async () => {
  const body = "[".repeat(1024 * 1024);
  const parsed = watchParse();
  const res = await postRaw("/v1/sql", body);
  expect(res.status).toBe(400);
  const { error } = await json(res);
  expect(error.code).toBe("validation_failed");
  expect(error.message).toBe(`request body nests deeper than ${MAX_BODY_JSON_DEPTH} levels of objects and arrays`);
  expect(error.details).toEqual([{ path: "", message: `nests deeper than ${MAX_BODY_JSON_DEPTH} levels of objects and arrays` }]);
  expect(parsed(body)).toBe(false);
});

test("the same on a route with a larger cap (vector upsert): 16 MiB of nesting is refused unparsed, nothing written", async () => {
  const body = `{"items":[{"id":"bomb","vector":[1,0],"metadata":${"[".repeat(16 * 1024 * 1024)}`;
  const parsed = watchParse();
  const res = await postRaw("/v1/vectors/indexes/deep/upsert", body);
  expect(res.status).toBe(400);
  expect((await json(res)).error.details).toEqual([{ path: "", message: `nests deeper than ${MAX_BODY_JSON_DEPTH} levels of objects and arrays` }]);
  expect(parsed(body)).toBe(false);
  expect((await send(lh, "GET", "/v1/vectors/indexes/deep/items/bomb")).status).toBe(404);
});

test("a body at exactly the limit is parsed and reaches its own check; one level more is refused unparsed", async () => {
  const atLimit = upsertBody(MAX_BODY_JSON_DEPTH - 3);
  expect(depthOf(JSON.parse(atLimit))).toBe(MAX_BODY_JSON_DEPTH);
  const parsed = watchParse();
  const res = await postRaw("/v1/vectors/indexes/deep/upsert", atLimit);
  expect(res.status).toBe(400);
  expect((await json(res)).error.details).toEqual([{ path: "items[0].metadata", message: `nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays` }]);
  expect(parsed(atLimit)).toBe(true);

  const over = upsertBody(MAX_BODY_JSON_DEPTH - 2);
  const refused = await postRaw("/v1/vectors/indexes/deep/upsert", over);
  expect(refused.status).toBe(400);
  expect((await json(refused)).error.details[0].path).toBe("");
  expect(parsed(over)).toBe(false);
});

test("the deepest legitimate bodies pass: metadata at MAX_JSON_DEPTH (upsert) and a filter at MAX_FILTER_DEPTH (search)", async () => {
  const upsert = upsertBody(MAX_JSON_DEPTH, "at-cap");
  expect(depthOf(JSON.parse(upsert))).toBe(MAX_JSON_DEPTH + 3);
  expect(await ok(postRaw("/v1/vectors/indexes/deep/upsert", upsert))).toMatchObject({ upserted: 1 });
  const item = await ok(send(lh, "GET", "/v1/vectors/indexes/deep/items/at-cap"));
  expect(JSON.stringify(item.metadata)).toBe(nestedText(MAX_JSON_DEPTH));

  await ok(send(lh, "POST", "/v1/vectors/indexes/deep/upsert", { items: [{ id: "tagged", vector: [0, 1], metadata: { tag: "deep" } }] }));
  const search = { vector: [0, 1], k: 5, filter: deepestFilter() };
  expect(depthOf(search)).toBe(2 * MAX_FILTER_DEPTH + 4);
  const { hits } = await ok(send(lh, "POST", "/v1/vectors/indexes/deep/search", search));
  expect(hits.map((h: { id: string }) => h.id)).toEqual(["tagged"]);

  // One filter level more is still within the body's limit: the filter's own check names it.
  const deeper = { ...search, filter: { $and: [deepestFilter()] } };
  expect(depthOf(deeper)).toBeLessThanOrEqual(MAX_BODY_JSON_DEPTH);
  const res = await send(lh, "POST", "/v1/vectors/indexes/deep/search", deeper);
  expect(res.status).toBe(400);
  expect((await json(res)).error.details[0].message).toBe(`filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
});
