// Limits that hold: a statement answers by timeout_ms + 2 s even when it ignores its interrupt,
// DuckDB running out of memory is 422 naming the cap, answers are cut at their byte caps with a
// message pointing at export, and data files missing from the store are 503 naming the dataset,
// with health degraded at once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tableFromIPC } from "apache-arrow";
import { unlinkSync, writeFileSync } from "node:fs";
import { testLakehouse } from "../support/app.ts";
import { json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows, sql } from "../support/sql.ts";
import { sqlReady } from "../support/workers.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;
const MiB = 1024 * 1024;
const ARROW = "application/vnd.apache.arrow.stream";

describe("timeouts that hold", () => {
  let lh: LH;
  beforeAll(async () => {
    // The memory caps are out of reach: only the timeout can stop these statements.
    lh = await testLakehouse({ sql: { timeout_ms: 400, max_statement_rss: 16384 * MiB, max_total_rss: 16384 * MiB } });
    // A worker up first: its start-up would count against the statement's 400 ms.
    await sqlReady(lh);
  });
  afterAll(() => lh.close());

  test("a statement that ignores its interrupt (list building) is killed: 504 by timeout_ms + 2 s", async () => {
    const started = performance.now();
    const res = await sql(lh, "SELECT length(range(0, 2000000000))");
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    const { error } = await json(res);
    expect(error).toMatchObject({ code: "timeout", details: { timeout_ms: 400 } });
    expect(error.message).toContain("its worker was stopped");
    // The bound the API promises (timeout_ms + 2 s), not a measurement of how fast it is.
    expect(elapsed).toBeLessThan(400 + 2000);
    expect(await rows(lh, "SELECT 42")).toEqual([[42]]);
    expect(lh.sql.service.health().detail).toMatchObject({ killed_timeout: 1 });
  }, 30_000);
});

describe("memory and size caps", () => {
  let lh: LH;
  beforeAll(async () => {
    lh = await testLakehouse({ sql: { memory_limit: "32MB", max_response_bytes: MiB, max_export_bytes: 4 * MiB } });
  });
  afterAll(() => lh.close());

  test("out of memory inside DuckDB is 422 resource_exhausted naming sql.memory_limit", async () => {
    const res = await sql(lh, "SELECT count(*) FROM (SELECT range % 5000000 AS k, count(*) FROM range(0, 20000000) GROUP BY k)");
    expect(res.status).toBe(422);
    expect((await json(res)).error).toMatchObject({ code: "resource_exhausted", details: { limit: "sql.memory_limit", value: "32MB" } });
  });

  // Five rows of 300 KB each: three fit in 1 MiB of JSON.
  const WIDE = "SELECT i, repeat('x', 300000) AS s FROM range(5) t(i) ORDER BY i";

  test("a JSON answer is cut before sql.max_response_bytes, whole rows only, with a message pointing at export", async () => {
    const res = await sql(lh, WIDE);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-truncated")).toBe("true");
    const text = await res.text();
    expect(text.length).toBeLessThan(MiB + 1000);
    const body = JSON.parse(text);
    expect(body).toMatchObject({ row_count: 3, truncated: true });
    expect(body.rows.map((r: unknown[]) => r[0])).toEqual([0, 1, 2]);
    expect(body.message).toContain("sql.max_response_bytes");
    expect(body.message).toContain("Accept: text/csv");
    expect(body.message).toContain(ARROW);
  });

  test("the same statement exported as Arrow or CSV is whole, under sql.max_export_bytes", async () => {
    const arrow = await sql(lh, WIDE, {}, { accept: ARROW });
    expect(arrow.headers.get("x-truncated")).toBe("false");
    const table = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
    expect(table.numRows).toBe(5);
    expect(String(table.getChild("s")!.get(4)).length).toBe(300000);
    const csv = await sql(lh, WIDE, {}, { accept: "text/csv" });
    expect(csv.headers.get("x-row-count")).toBe("5");
    expect((await csv.text()).split("\r\n").length).toBe(1 + 5 + 1);
  });

  test("an export is cut at sql.max_export_bytes", async () => {
    const res = await sql(lh, "SELECT i, repeat('x', 300000) AS s FROM range(20) t(i) ORDER BY i", {}, { accept: "text/csv" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-truncated")).toBe("true");
    expect(Number(res.headers.get("x-row-count"))).toBe(13);
    expect((await res.arrayBuffer()).byteLength).toBeLessThan(4 * MiB);
  });

  test("small answers are untouched and carry no message", async () => {
    const body = await json(sql(lh, "SELECT 1 AS one"));
    expect(body).toMatchObject({ rows: [[1]], truncated: false });
    expect(body.message).toBeUndefined();
  });
});

describe("data files missing from the store", () => {
  let lh: LH;
  beforeAll(async () => {
    lh = await testLakehouse();
    expect((await ingest(lh, "people", "id,name\n1,ann\n2,bob\n")).status).toBe(201);
    expect((await ingest(lh, "other", "k\n1\n")).status).toBe(201);
  });
  afterAll(() => lh.close());

  const fileOf = (name: string) => lh.storage.store.localPath!(lh.catalog.catalog.get(name)!.objects[0]!.key);

  test("a path the caller made up stays the caller's 400", async () => {
    const res = await sql(lh, `SELECT * FROM read_parquet('${fileOf("people").replace(/[^/]+$/, "made-up.parquet")}')`);
    expect(res.status).toBe(400);
    expect(lh.sql.service.health().status).toBe("ok");
  });

  test("a dataset's file gone: 503 naming the dataset, health degraded at once, other datasets fine", async () => {
    unlinkSync(fileOf("people"));
    const res = await sql(lh, "SELECT count(*) FROM people");
    expect(res.status).toBe(503);
    const { error } = await json(res);
    expect(error).toMatchObject({ code: "unavailable", details: { dataset: "people" } });
    expect(error.message).not.toContain("/");
    expect(lh.sql.service.health()).toMatchObject({ status: "degraded", detail: { datasets_missing_data: ["people"] } });
    expect(await rows(lh, "SELECT k FROM other")).toEqual([[1]]);
  });

  test("writing the dataset again clears it", async () => {
    expect((await ingest(lh, "people", "id,name\n3,cy\n", { query: { mode: "replace" } })).status).toBe(200);
    expect(await rows(lh, "SELECT name FROM people")).toEqual([["cy"]]);
    expect(lh.sql.service.health().status).toBe("ok");
  });
});

describe("a dataset whose data file is damaged at start-up", () => {
  let lh: LH;
  beforeAll(async () => {
    const first = await testLakehouse();
    expect((await ingest(first, "broken", "id\n1\n")).status).toBe(201);
    expect((await ingest(first, "fine", "id\n2\n")).status).toBe(201);
    const file = first.storage.store.localPath!(first.catalog.catalog.get("broken")!.objects[0]!.key);
    await first.close();
    writeFileSync(file, "not parquet at all");
    lh = await testLakehouse({ storage: { fs: { root: first.config.storage.fs.root } } });
    await sqlReady(lh);
  });
  afterAll(() => lh.close());

  test("its view fails: health says so, a statement over it is 503 naming it, the others work", async () => {
    expect(lh.sql.service.health()).toMatchObject({ status: "degraded", detail: { views_failed: 1 } });
    const res = await sql(lh, "SELECT * FROM broken");
    expect(res.status).toBe(503);
    expect((await json(res)).error).toMatchObject({ code: "unavailable", details: { dataset: "broken" } });
    expect(await rows(lh, "SELECT id FROM fine")).toEqual([[2]]);
    // A name that is no dataset stays the caller's mistake.
    expect((await sql(lh, "SELECT * FROM nothing_here")).status).toBe(400);
  });
});
