// POST /v1/sql/export: whole results in four formats, not capped by max_rows, read back with real
// readers (DuckDB for CSV and Parquet, apache-arrow for Arrow); the same refusals as /v1/sql; a cut
// at sql.max_export_bytes that a client cannot mistake for a whole file; a client that goes away
// stops the statement and frees its worker.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tableFromIPC } from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { join } from "node:path";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { tempDir } from "../support/tmp.ts";
import { sqlReady } from "../support/workers.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;
const MiB = 1024 * 1024;

function exportSql(lh: LH, body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return call(lh, "/v1/sql/export", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), ...init });
}

/** Rows of a file read by DuckDB (read_csv / read_parquet / read_json), all values as DuckDB gives them. */
async function readBack(bytes: Uint8Array, ext: string, reader: string): Promise<unknown[][]> {
  const path = join(tempDir(), `out.${ext}`);
  await Bun.write(path, bytes);
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(`SELECT * FROM ${reader}('${path}')`)).getRowsJS();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe("SQL export", () => {
  let lh: LH;
  beforeAll(async () => {
    // max_rows is tiny: an export is not capped by it.
    lh = await testLakehouse({ sql: { max_rows: 5, max_export_bytes: 4 * MiB } });
    expect((await ingest(lh, "people", 'id,name,note\n1,ann,"a, ""quoted""\nnote"\n2,bob,\n3,cy,plain\n')).status).toBe(201);
  });
  afterAll(() => lh.close());

  const WHOLE = "SELECT i AS id, 'row ' || i AS label, i / 4 AS ratio FROM range(20000) t(i) ORDER BY i";

  test("csv: the whole result (past max_rows), RFC 4180, read back by DuckDB", async () => {
    const res = await exportSql(lh, { sql: WHOLE, format: "csv" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const rows = await readBack(new Uint8Array(await res.arrayBuffer()), "csv", "read_csv");
    expect(rows).toHaveLength(20000);
    expect(rows[19999]).toEqual([19999n, "row 19999", 4999.75]);
    const quoted = await exportSql(lh, { sql: "SELECT id, name, note FROM people ORDER BY id", format: "csv" });
    expect(await quoted.text()).toBe('id,name,note\r\n1,ann,"a, ""quoted""\nnote"\r\n2,bob,\r\n3,cy,plain\r\n');
  });

  test("ndjson: one object per row with the JSON answer's values", async () => {
    const res = await exportSql(lh, {
      sql: "SELECT id, name, DATE '2024-01-01' + id::INT AS d, [id] AS l FROM people WHERE id <= ? ORDER BY id",
      params: [2],
      format: "ndjson",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text()).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { id: 1, name: "ann", d: "2024-01-02", l: [1] },
      { id: 2, name: "bob", d: "2024-01-03", l: [2] },
    ]);
  });

  test("arrow: typed record batches, the whole result, in several batches", async () => {
    const res = await exportSql(lh, { sql: WHOLE, format: "arrow" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apache.arrow.stream");
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(table.numRows).toBe(20000);
    expect(table.batches.length).toBeGreaterThan(1);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(["id:Int64", "label:Utf8", "ratio:Float64"]);
    expect(table.get(12345)!.toJSON()).toEqual({ id: 12345n, label: "row 12345", ratio: 3086.25 });
  });

  test("arrow: an empty result is a valid stream with its schema", async () => {
    const res = await exportSql(lh, { sql: "SELECT id, name FROM people WHERE false", format: "arrow" });
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => f.name)).toEqual(["id", "name"]);
  });

  test("parquet: a Parquet file DuckDB reads back, parameters bound, the temporary file gone", async () => {
    const res = await exportSql(lh, { sql: "SELECT i, 'x' || i AS s FROM range(30000) t(i) WHERE i % $m = 0 ORDER BY i", params: { m: 3 }, format: "parquet" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apache.parquet");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("PAR1");
    const rows = await readBack(bytes, "parquet", "read_parquet");
    expect(rows).toHaveLength(10000);
    expect(rows[9999]).toEqual([29997n, "x29997"]);
    const leftovers = new Bun.Glob("**/*.parquet").scanSync({ cwd: join(lh.config.storage.fs.root, "cache") });
    expect([...leftovers]).toEqual([]);
  });

  test.each([
    ["DELETE FROM people", "DELETE"],
    ["COPY people TO '/tmp/lh-export-escape.csv'", "COPY"],
    ["SELECT 1; SELECT 2", "exactly one"],
  ])("the same refusals as /v1/sql: %s", async (statement, says) => {
    for (const format of ["csv", "parquet"]) {
      const res = await exportSql(lh, { sql: statement, format });
      expect(res.status).toBe(400);
      expect((await json(res)).error.message).toContain(says);
    }
  });

  test("a statement DuckDB rejects is an ordinary error answer, before any byte", async () => {
    const res = await exportSql(lh, { sql: "SELECT * FROM no_such_table", format: "csv" });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("bad_request");
    const bad = await exportSql(lh, { sql: "SELECT 1", format: "xlsx" });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details[0].path).toBe("format");
  });

  test("past sql.max_export_bytes the body is cut abnormally: a reader gets an error, never a short file that looks whole", async () => {
    // ≈ 9.5 MiB of CSV against a 4 MiB cap.
    const res = await exportSql(lh, { sql: "SELECT i, repeat('x', 1000) AS s FROM range(10000) t(i)", format: "csv" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = 0;
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        received += value.length;
      }
    })().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(received).toBeLessThanOrEqual(4 * MiB);
    expect(received).toBeGreaterThan(2 * MiB);
    // The worker was released: the next statement runs.
    expect((await exportSql(lh, { sql: "SELECT 1 AS one", format: "csv" }).then((r) => r.text())).trim()).toBe("one\r\n1");
  });

  test("a client that goes away stops the statement and frees its worker", async () => {
    await sqlReady(lh);
    // Endless unless stopped: ≈ 10^12 rows.
    const abort = new AbortController();
    const res = await exportSql(
      lh,
      { sql: "SELECT a.range * b.range AS x FROM range(1000000) a, range(1000000) b", format: "ndjson" },
      { signal: abort.signal },
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).value!.length).toBeGreaterThan(0);
    abort.abort();
    await reader.cancel().catch(() => {});
    // Every worker idle again, long before the statement could end by itself.
    for (let i = 0; i < 100 && (lh.sql.service.health().detail as { busy: number }).busy > 0; i++) await Bun.sleep(50);
    expect((lh.sql.service.health().detail as { busy: number }).busy).toBe(0);
    expect((await exportSql(lh, { sql: "SELECT 2 AS two", format: "csv" }).then((r) => r.text())).trim()).toBe("two\r\n2");
  }, 20_000);
});
