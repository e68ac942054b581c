import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tableFromIPC } from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { join } from "node:path";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows, sql } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";
import { sqlReady } from "../support/workers.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

describe("SQL results", () => {
  let lh: LH;
  beforeAll(async () => {
    lh = await testLakehouse({ sql: { max_rows: 50 } });
    expect((await ingest(lh, "people", 'id,name,note\n1,ann,"a, ""quoted""\nnote"\n2,bob,\n3,cy,plain\n')).status).toBe(201);
  });
  afterAll(() => lh.close());

  test("values are JSON-safe: big integers and decimals as strings, ISO times, base64 blobs, nested JSON", async () => {
    const [row] = await rows(
      lh,
      `SELECT 9007199254740991::BIGINT AS safe, 9007199254740993::BIGINT AS big, (-2)::HUGEINT ** 70 AS huge, 12.50::DECIMAL(10,2) AS dec,
              DATE '2024-03-01' AS d, TIMESTAMP '2024-03-01 12:34:56.789' AS ts, TIMESTAMPTZ '2024-03-01 12:00:00+00' AS tstz,
              '\\xDE\\xAD'::BLOB AS b, [1, 2] AS l, {'k': 'v', 'n': 1} AS s, MAP {'a': 1} AS m, 'inf'::DOUBLE AS inf, NULL AS nothing, true AS t`,
    );
    expect(row).toEqual([
      9007199254740991,
      "9007199254740993",
      expect.any(Number),
      "12.50",
      "2024-03-01",
      "2024-03-01T12:34:56.789",
      "2024-03-01T12:00:00+00:00",
      "3q0=",
      [1, 2],
      { k: "v", n: 1 },
      [{ key: "a", value: 1 }],
      "Infinity",
      null,
      true,
    ]);
    const [[hugeInt]] = (await rows(lh, "SELECT 170141183460469231731687303715884105727::HUGEINT")) as [[unknown]];
    expect(hugeInt).toBe("170141183460469231731687303715884105727");
  });

  test("positional and named parameters bind as values, never as SQL", async () => {
    expect(await rows(lh, "SELECT name FROM people WHERE id = ? OR name = ?", [2, "cy"])).toEqual([["bob"], ["cy"]]);
    expect(await rows(lh, "SELECT name FROM people WHERE name = $who", { who: "ann' OR '1'='1" })).toEqual([]);
    expect(await rows(lh, "SELECT ?::DOUBLE + 0.5, ? IS NULL, ?", [1.25, null, true])).toEqual([[1.75, true, true]]);
    const wrong = await sql(lh, "SELECT ?", { params: [] });
    expect(wrong.status).toBe(400);
  });

  test("results over max_rows are truncated with a message pointing at export, and a request may ask for fewer", async () => {
    const all = await json(sql(lh, "SELECT * FROM range(1000)"));
    expect(all).toMatchObject({ row_count: 50, truncated: true });
    expect(all.message).toContain("max_rows (50)");
    expect(all.message).toContain("/v1/sql/export");
    const few = await json(sql(lh, "SELECT * FROM range(1000)", { max_rows: 3 }));
    expect(few.rows).toEqual([[0], [1], [2]]);
    expect(few.truncated).toBe(true);
    expect(few.message).toContain("max_rows (3)");
    const exact = await json(sql(lh, "SELECT * FROM range(3)", { max_rows: 3 }));
    expect(exact.truncated).toBe(false);
    expect(exact.message).toBeUndefined();
    const atCap = await json(sql(lh, "SELECT * FROM range(10)", { max_rows: 50 }));
    expect(atCap).toMatchObject({ row_count: 10, truncated: false });
  });

  test("max_rows over sql.max_rows is a 400 naming the cap, not silently lowered", async () => {
    const res = await sql(lh, "SELECT * FROM range(10)", { max_rows: 51 });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("sql.max_rows (50)");
    expect(error.details).toEqual([{ path: "max_rows", message: "at most 50 (sql.max_rows)" }]);
    await expect(lh.sql.query("SELECT 1", [], { maxRows: 51 })).rejects.toThrow("sql.max_rows (50)");
  });

  test('shape "objects" returns rows keyed by column name; "arrays" stays the default', async () => {
    const objects = await json(sql(lh, "SELECT id, name, 1 AS x, 2 AS x FROM people ORDER BY id LIMIT 2", { shape: "objects" }));
    expect(objects.rows).toEqual([
      { id: 1, name: "ann", x: 1, x_1: 2 },
      { id: 2, name: "bob", x: 1, x_1: 2 },
    ]);
    expect(objects.columns.map((c: { name: string }) => c.name)).toEqual(["id", "name", "x", "x"]);
    const arrays = await json(sql(lh, "SELECT id, name FROM people ORDER BY id LIMIT 1"));
    expect(arrays.rows).toEqual([[1, "ann"]]);
    expect((await json(sql(lh, "SELECT 1", { shape: "arrays" }))).rows).toEqual([[1]]);
    const wrong = await sql(lh, "SELECT 1", { shape: "rows" });
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error.details[0].path).toBe("shape");
  });

  test("Arrow IPC stream parses with apache-arrow", async () => {
    const res = await sql(
      lh,
      "SELECT id, name, id / 2 AS x, id > 1 AS big, DATE '2024-01-01' + id::INT AS d FROM people ORDER BY id",
      {},
      { accept: "application/vnd.apache.arrow.stream" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apache.arrow.stream");
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(table.schema.fields.map((f) => f.name)).toEqual(["id", "name", "x", "big", "d"]);
    expect(table.numRows).toBe(3);
    // Typed: the DATE is an Arrow Date32 (epoch milliseconds when read), not text.
    expect(String(table.schema.fields[4]!.type)).toBe("Date32<DAY>");
    const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
    expect(table.toArray().map((r) => r.toJSON())).toEqual([
      { id: 1n, name: "ann", x: 0.5, big: false, d: day("2024-01-02") },
      { id: 2n, name: "bob", x: 1, big: true, d: day("2024-01-03") },
      { id: 3n, name: "cy", x: 1.5, big: true, d: day("2024-01-04") },
    ]);
  });

  test("CSV responses parse back with a CSV reader (DuckDB's)", async () => {
    const res = await sql(lh, "SELECT id, name, note FROM people ORDER BY id", {}, { accept: "text/csv" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/csv");
    const path = join(tempDir(), "out.csv");
    await Bun.write(path, await res.text());
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    const parsed = (await conn.runAndReadAll(`SELECT * FROM read_csv('${path}', header=true, all_varchar=true)`)).getRowsJS();
    conn.closeSync();
    db.closeSync();
    expect(parsed).toEqual([
      ["1", "ann", 'a, "quoted"\nnote'],
      ["2", "bob", null],
      ["3", "cy", "plain"],
    ]);
  });

  test("the in-process interface runs the same checks", async () => {
    const result = await lh.sql.query("SELECT name FROM people WHERE id = ?", [3]);
    expect(result.rows).toEqual([["cy"]]);
    expect(result.columns).toEqual([{ name: "name", type: "VARCHAR" }]);
    await expect(lh.sql.query("DROP VIEW people")).rejects.toThrow("read-only");
  });
});

describe("statement timeout", () => {
  const SLOW = "SELECT count(*) FROM range(100000) a, range(100000) b WHERE a.range * b.range = 7";
  let lh: LH;
  let patient: LH;
  beforeAll(async () => {
    lh = await testLakehouse({ sql: { timeout_ms: 300 } });
    patient = await testLakehouse();
    // Workers up first: their start-up would count against a statement's 300 ms.
    await sqlReady(lh);
  });
  afterAll(async () => {
    await lh.close();
    await patient.close();
  });

  test("a runaway query is interrupted with 504, and the engine keeps serving", async () => {
    const res = await sql(lh, SLOW);
    expect(res.status).toBe(504);
    expect((await json(res)).error).toMatchObject({ code: "timeout", details: { timeout_ms: 300 } });
    expect(await rows(lh, "SELECT 42")).toEqual([[42]]);
  });

  test("several runaway queries at once are all interrupted", async () => {
    const statuses = await Promise.all(Array.from({ length: 4 }, () => sql(lh, SLOW).then((r) => r.status)));
    expect(statuses).toEqual([504, 504, 504, 504]);
  });

  test("health and other queries answer while a slow query runs", async () => {
    const slow = sql(lh, SLOW);
    expect((await call(lh, "/health")).status).toBe(200);
    expect(await rows(patient, "SELECT 1")).toEqual([[1]]);
    expect((await slow).status).toBe(504);
  });
});
