import { describe, expect, test } from "bun:test";
import { explainedStatement } from "../../src/sql/statement.ts";
import { isoTimestamp } from "../../src/sql/values.ts";
import { createViewSql, dropViewSql, quoteIdent, quoteLiteral } from "../../src/sql/views.ts";

describe("view SQL", () => {
  test("refuses names that are not dataset names", () => {
    expect(() => createViewSql('foo"; DROP VIEW x; --', [], [])).toThrow();
    expect(() => dropViewSql("a b")).toThrow();
  });

  test("quotes paths and identifiers", () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(createViewSql("w", [], ["/d/it's.parquet"])).toBe(`CREATE OR REPLACE VIEW "w" AS SELECT * FROM read_parquet(['/d/it''s.parquet'])`);
  });

  test("an empty dataset is an empty relation of the right shape; odd types fall back to VARCHAR", () => {
    const fields = [
      { name: "id", type: "BIGINT", nullable: true },
      { name: "x", type: "VARCHAR); DROP VIEW w; --", nullable: true },
    ];
    expect(createViewSql("w", fields, [])).toBe(`CREATE OR REPLACE VIEW "w" AS SELECT CAST(NULL AS BIGINT) AS "id", CAST(NULL AS VARCHAR) AS "x" WHERE false`);
  });
});

test("timestamps become ISO-8601", () => {
  expect(isoTimestamp("2024-01-02 03:04:05.5")).toBe("2024-01-02T03:04:05.5");
  expect(isoTimestamp("2024-01-02 03:04:05+02")).toBe("2024-01-02T03:04:05+02:00");
});

describe("the statement an EXPLAIN wraps", () => {
  test.each([
    ["EXPLAIN SELECT 1", "SELECT 1"],
    ["  explain analyze\n SELECT 1", "SELECT 1"],
    ["EXPLAIN ANALYSE WITH a AS (SELECT 1) FROM a", "WITH a AS (SELECT 1) FROM a"],
    ["EXPLAIN (ANALYZE, FORMAT json) SELECT 1", "SELECT 1"],
    ["EXPLAIN ANALYZE /* c */ DROP VIEW x", "/* c */ DROP VIEW x"],
  ])("%p → %p", (sql, inner) => {
    expect(explainedStatement(sql)).toBe(inner);
  });

  test.each(["/* x */ EXPLAIN SELECT 1", "-- x\nEXPLAIN SELECT 1", "EXPLAIN", "EXPLAIN ANALYZE ", "EXPLAIN (FORMAT '/*') SELECT 1", "SELECT 1"])(
    "gives up on %p",
    (sql) => {
      expect(explainedStatement(sql)).toBeNull();
    },
  );
});
