import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { testLakehouse } from "../support/app.ts";
import { json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows, sql } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

describe("SQL sandbox", () => {
  let lh: LH;
  let outside: string;
  beforeAll(async () => {
    lh = await testLakehouse();
    outside = tempDir("lh-outside-");
    await Bun.write(join(outside, "secret.csv"), "a\nsecret\n");
    expect((await ingest(lh, "people", "id,name\n1,ann\n2,bob\n")).status).toBe(201);
  });
  afterAll(() => lh.close());

  const datasetDir = () => lh.storage.store.localPath!("datasets/people/x").replace(/\/x$/, "");

  const refused = [
    ["COPY to a file", `COPY people TO '${"/tmp"}/lh-escape.csv'`],
    ["COPY into the data directory", () => `COPY people TO '${datasetDir()}/escape.csv'`],
    ["COPY FROM", "COPY people FROM '/etc/passwd'"],
    ["ATTACH", "ATTACH '/tmp/lh-escape.duckdb' AS x"],
    ["INSTALL", "INSTALL httpfs"],
    ["LOAD", "LOAD httpfs"],
    ["SET", "SET threads=1"],
    ["SET unlock", "SET lock_configuration=false"],
    ["RESET", "RESET enable_external_access"],
    ["PRAGMA with effects", "PRAGMA enable_profiling"],
    ["CREATE", "CREATE TABLE t AS SELECT 1"],
    ["CREATE VIEW over a dataset name", "CREATE OR REPLACE VIEW people AS SELECT 1"],
    ["DROP", "DROP VIEW people"],
    ["INSERT", "INSERT INTO people VALUES (3, 'x')"],
    ["EXPORT", "EXPORT DATABASE '/tmp/lh-export'"],
    ["CALL", "CALL pragma_version()"],
    ["USE", "USE memory"],
    ["DETACH", "DETACH memory"],
    ["CHECKPOINT", "CHECKPOINT"],
    ["two statements", "SELECT 1; SELECT 2"],
    ["a read then a write", "SELECT 1; DROP VIEW people"],
    ["read_csv of /etc/passwd", "SELECT * FROM read_csv('/etc/passwd')"],
    ["read_text of /etc/passwd", "SELECT * FROM read_text('/etc/passwd')"],
    ["read_blob of /etc/passwd", "SELECT * FROM read_blob('/etc/passwd')"],
    ["glob outside", "SELECT * FROM glob('/etc/*')"],
    ["read_csv of a file outside the data directory", () => `SELECT * FROM read_csv('${outside}/secret.csv')`],
    ["a relative path out of the data directory", () => `SELECT * FROM read_csv('${datasetDir()}/../../../../../../etc/passwd')`],
    ["getenv", "SELECT getenv('HOME')"],
    ["EXPLAIN ANALYZE COPY into the data directory", () => `EXPLAIN ANALYZE COPY people TO '${datasetDir()}/explained.csv'`],
    ["EXPLAIN ANALYZE CREATE", "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1"],
    ["EXPLAIN ANALYZE DROP", "EXPLAIN ANALYZE DROP VIEW people"],
    ["EXPLAIN (ANALYZE) DROP", "EXPLAIN (ANALYZE) DROP VIEW people"],
    ["EXPLAIN EXPLAIN ANALYZE DROP", "EXPLAIN EXPLAIN ANALYZE DROP VIEW people"],
    ["a comment hiding where an EXPLAIN's statement starts", "/* /* */ EXPLAIN ANALYZE SELECT '*/ DROP VIEW people; --'"],
    ["query() running a write", "SELECT * FROM query('DROP VIEW people')"],
    ["IMPORT DATABASE", "IMPORT DATABASE '/tmp'"],
    ["PREPARE", "PREPARE p AS SELECT 1"],
    ["BEGIN", "BEGIN TRANSACTION"],
    ["SET VARIABLE", "SET VARIABLE x = 1"],
    ["CREATE MACRO", "CREATE MACRO m(a) AS a"],
    ["PRAGMA profiling_output", "PRAGMA profiling_output='/tmp/lh-profile.json'"],
    ["VACUUM", "VACUUM"],
    ["a listing of extensions (reads the home directory)", "SELECT * FROM duckdb_extensions()"],
  ] as const;

  test.each(refused)("refuses %s with 400", async (_name, statement) => {
    const text = typeof statement === "function" ? statement() : statement;
    const res = await sql(lh, text);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).not.toContain(datasetDir());
    expect(body.error.message).not.toMatch(/"\/(root|home|etc|tmp)\b/);
  });

  // DuckDB cannot even bind most writes against a view ("Binder Error: Can only delete from base
  // table"): the read-only refusal must still be what the caller hears, for every kind.
  test.each([
    ["DELETE FROM people", "DELETE"],
    ["DELETE FROM people WHERE id = ?", "DELETE"],
    ["UPDATE people SET name = 'x'", "UPDATE"],
    ["INSERT INTO people VALUES (3, 'x')", "INSERT"],
    ["INSERT INTO no_such_table VALUES (1)", "INSERT"],
    ["TRUNCATE people", "TRUNCATE"],
    ["WITH x AS (SELECT 1) DELETE FROM people", "a WITH that does not end in a query"],
    ["/* a comment */ -- and another\n DELETE FROM people", "DELETE"],
    ["ALTER VIEW people RENAME TO p2", "ALTER"],
    ["CREATE TABLE people2 AS SELECT * FROM people", "CREATE"],
    ["COPY no_such_table TO 'x.csv'", "COPY"],
    ["ATTACH 'x.duckdb' AS x", "ATTACH"],
    ["SET threads = 1", "SET"],
    ["EXPLAIN ANALYZE DELETE FROM people", "DELETE"],
  ])("a writing statement is refused first: %s", async (statement, kind) => {
    const res = await sql(lh, statement, statement.includes("?") ? { params: [1] } : {});
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe("bad_request");
    expect(error.message).toStartWith("only read-only statements are allowed");
    expect(error.message).toContain(kind);
    expect(error.message).not.toMatch(/Binder Error|Catalog Error|base table/);
  });

  test("a query DuckDB cannot bind keeps DuckDB's own message (it is no write)", async () => {
    for (const statement of [
      "SELECT * FROM no_such_table",
      "DESCRIBE no_such_table",
      "EXPLAIN SELECT * FROM no_such_table",
      "PRAGMA table_info('no_such_table')",
    ]) {
      const { error } = await json(sql(lh, statement));
      expect(error.message).toContain("no_such_table");
      expect(error.message).not.toContain("read-only");
    }
  });

  test("nothing was written and the views and configuration are intact", async () => {
    expect(existsSync("/tmp/lh-escape.csv")).toBe(false);
    expect(existsSync("/tmp/lh-escape.duckdb")).toBe(false);
    expect(existsSync("/tmp/lh-export")).toBe(false);
    expect(existsSync(join(datasetDir(), "escape.csv"))).toBe(false);
    expect(existsSync(join(datasetDir(), "explained.csv"))).toBe(false);
    expect(await rows(lh, "SELECT count(*) FROM duckdb_tables()")).toEqual([[0]]);
    expect(await rows(lh, "SELECT count(*) FROM people")).toEqual([[2]]);
    expect(await rows(lh, "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')")).toEqual([[false, true]]);
  });

  test("DuckDB's temp directory (<cwd>/.tmp) is not readable, and there is none", async () => {
    const tmp = join(process.cwd(), ".tmp");
    const existed = existsSync(tmp);
    mkdirSync(tmp, { recursive: true });
    const planted = join(tmp, `lh-sandbox-${process.pid}.csv`);
    writeFileSync(planted, "a\nsecret\n");
    try {
      for (const statement of [
        `SELECT * FROM read_csv('${planted}')`,
        `SELECT * FROM read_text('${planted}')`,
        `SELECT * FROM glob('${tmp}/*')`,
        "SELECT * FROM read_text('.tmp/*')",
      ]) {
        const res = await sql(lh, statement);
        expect(res.status).toBe(400);
        expect(JSON.stringify(await json(res))).not.toContain("secret");
      }
      expect(await rows(lh, "SELECT current_setting('temp_directory')")).toEqual([[""]]);
    } finally {
      rmSync(planted, { force: true });
      if (!existed) rmdirSync(tmp);
    }
  });

  test("the store's other prefixes, beside the datasets directory, are not readable", async () => {
    const objects = dirname(dirname(datasetDir()));
    const manifests = join(objects, "_catalog", "people");
    const manifest = join(manifests, readdirSync(manifests)[0]!);
    for (const statement of [
      `SELECT * FROM read_text('${manifest}')`,
      `SELECT * FROM glob('${objects}/_catalog/*')`,
      `SELECT * FROM read_text('${datasetDir()}/../../_journal/*')`,
    ]) {
      const res = await sql(lh, statement);
      expect(res.status).toBe(400);
      expect((await json(res)).error.message).not.toContain(objects);
    }
  });

  test.each([
    ["SELECT", "SELECT name FROM people WHERE id = 1", [["ann"]]],
    ["WITH", "WITH p AS (SELECT * FROM people) SELECT count(*) FROM p", [[2]]],
    ["DESCRIBE", "DESCRIBE people", null],
    // The modules' own views are tables to SQL too.
    ["SHOW TABLES", "SHOW TABLES", [["observer_events"], ["pathway_traces"], ["people"]]],
    ["EXPLAIN", "EXPLAIN SELECT * FROM people", null],
    ["EXPLAIN ANALYZE of a query", "EXPLAIN ANALYZE SELECT count(*) FROM people", null],
    ["EXPLAIN with options", "EXPLAIN (FORMAT json) SELECT 1", null],
    ["SUMMARIZE", "SUMMARIZE people", null],
    ["FROM-first", "FROM people SELECT id ORDER BY id", [[1], [2]]],
  ] as const)("allows %s", async (_name, statement, expected) => {
    const res = await sql(lh, statement);
    expect(res.status).toBe(200);
    const body = await json(res);
    if (expected) expect(body.rows).toEqual(expected);
    else expect(body.row_count).toBeGreaterThan(0);
  });
});
