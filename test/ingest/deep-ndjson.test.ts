// An NDJSON upload nested 100,000 levels crashed DuckDB's conversion process (SIGSEGV, then a 500).
// Now the spooled file is scanned first: a line past MAX_JSON_DEPTH is a 400 naming it, and nothing
// is committed or left behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { json } from "../support/http.ts";
import { ingest, ingestOk } from "../support/ingest.ts";
import { rows } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

let lh: Lakehouse;
let spoolRoot: string;
beforeAll(async () => {
  spoolRoot = tempDir("lh-spool-");
  lh = await testLakehouse({ ingest: { temp_dir: spoolRoot } });
});
afterAll(() => lh.close());

/** A row whose "x" holds `levels - 1` nested arrays: the row itself is one level. */
const deepRow = (levels: number) => `{"id":9,"x":${"[".repeat(levels - 1)}1${"]".repeat(levels - 1)}}`;
const spoolFiles = () => readdirSync(spoolRoot).flatMap((dir) => readdirSync(join(spoolRoot, dir)).filter((n) => n !== "duckdb-tmp"));

test("a line nested 100,000 levels is 400 naming the line; the dataset and the store are as they were", async () => {
  await ingestOk(lh, "events", '{"id":1,"x":[1]}\n{"id":2,"x":[2]}\n', { type: "ndjson" });
  const before = lh.catalog.catalog.get("events")!;
  const keysBefore = (await lh.storage.store.list("datasets/")).items.map((i) => i.key);
  for (const mode of ["replace", "append"]) {
    const res = await ingest(lh, "events", `{"id":3,"x":[3]}\n{"id":4,"x":[4]}\n${deepRow(100_000)}\n`, { type: "ndjson", query: { mode } });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toEqual({
      code: "bad_request",
      message: "the NDJSON upload could not be read: line 3 nests deeper than 64 levels of objects and arrays",
      details: { line: 3 },
    });
  }
  expect(lh.catalog.catalog.get("events")).toEqual(before);
  expect((await lh.storage.store.list("datasets/")).items.map((i) => i.key)).toEqual(keysBefore);
  expect(await rows(lh, "SELECT id FROM events ORDER BY id")).toEqual([[1], [2]]);
  expect(spoolFiles()).toEqual([]);
});

test("the format may come from a multipart file name or ?format=; the answer is the same", async () => {
  const form = new FormData();
  form.append("file", new Blob([`${deepRow(100_000)}\n`]), "deep.jsonl");
  const viaName = await ingest(lh, "named", form);
  expect(viaName.status).toBe(400);
  expect((await json(viaName)).error.details).toEqual({ line: 1 });
  const viaQuery = await ingest(lh, "queried", `${deepRow(65)}\n`, { type: "application/octet-stream", query: { format: "ndjson" } });
  expect(viaQuery.status).toBe(400);
  expect(lh.catalog.catalog.get("named")).toBeUndefined();
  expect(lh.catalog.catalog.get("queried")).toBeUndefined();
});

test("64 levels is ingested and queryable", async () => {
  const body = await ingestOk(lh, "deep_ok", `${deepRow(64)}\n`, { type: "ndjson" });
  expect(body).toMatchObject({ rows: 1, columns: 2, result: "created" });
  expect(await rows(lh, "SELECT id FROM deep_ok")).toEqual([[9]]);
});

test("the same bytes as CSV are not judged as JSON", async () => {
  const res = await ingest(lh, "csvish", `a\n"${"[".repeat(100)}"\n`);
  expect(res.status).toBe(201);
});
