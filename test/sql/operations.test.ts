// sql.query in-process: the same result as POST /v1/sql, the same validation, and the Arrow and
// CSV representations with their headers over HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { QueryResult } from "../../src/sql/engine.ts";
import { testLakehouse } from "../support/app.ts";
import { json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { sql } from "../support/sql.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

describe("sql.query", () => {
  let lh: LH;
  beforeAll(async () => {
    lh = await testLakehouse({ sql: { max_rows: 50 } });
    expect((await ingest(lh, "people", "id,name\n1,ann\n2,bob\n3,cy\n")).status).toBe(201);
  });
  afterAll(() => lh.close());

  const statement = "SELECT id, name FROM people WHERE id >= ? ORDER BY id";
  const withoutMs = ({ ms: _, ...rest }: QueryResult) => rest;

  test("in-process gives what HTTP gives", async () => {
    const local = await lh.ops.call<QueryResult>("sql.query", { sql: statement, params: [2] });
    const res = await sql(lh, statement, { params: [2] });
    expect(res.status).toBe(200);
    expect(withoutMs(local)).toEqual(withoutMs(await json(res)));
    expect(local).toMatchObject({
      rows: [
        [2, "bob"],
        [3, "cy"],
      ],
      row_count: 2,
      truncated: false,
    });
  });

  test("max_rows truncates in-process too", async () => {
    const local = await lh.ops.call<QueryResult>("sql.query", { sql: "SELECT * FROM range(100)", max_rows: 3 });
    expect(local).toMatchObject({ row_count: 3, truncated: true });
  });

  test("a bad input is validation_failed naming the field", async () => {
    await expect(lh.ops.call("sql.query", { sql: "" })).rejects.toMatchObject({ code: "validation_failed", details: [{ path: "sql" }] });
    await expect(lh.ops.call("sql.query", { sql: "SELECT 1", max_rows: -1 })).rejects.toMatchObject({
      code: "validation_failed",
      details: [{ path: "max_rows" }],
    });
  });

  test("a refused statement is the domain error, in-process as over HTTP", async () => {
    await expect(lh.ops.call("sql.query", { sql: "DROP VIEW people" })).rejects.toMatchObject({ code: "bad_request" });
    expect((await sql(lh, "DROP VIEW people")).status).toBe(400);
  });

  test("every representation carries X-Truncated and X-Row-Count", async () => {
    for (const accept of ["application/json", "text/csv", "application/vnd.apache.arrow.stream"]) {
      const res = await sql(lh, "SELECT * FROM range(100)", {}, { accept });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-truncated")).toBe("true");
      expect(res.headers.get("x-row-count")).toBe("50");
      await res.arrayBuffer();
    }
    const csv = await sql(lh, "SELECT id FROM people ORDER BY id", {}, { accept: "text/csv" });
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(await csv.text()).toBe("id\r\n1\r\n2\r\n3\r\n");
  });

  test("the OpenAPI document lists the Arrow and CSV representations", async () => {
    const doc = await lh.ops.call<{ paths: Record<string, any> }>("system.openapi");
    const content = doc.paths["/v1/sql"].post.responses["200"].content;
    expect(Object.keys(content).sort()).toEqual(["application/json", "application/vnd.apache.arrow.stream", "text/csv"]);
  });
});
