// The widening lattice schema=evolve uses, and the exact casts typed reads rely on.
import { expect, test } from "bun:test";
import { joinTypes, readerCastsExactly, widensTo } from "../../src/ingest/type-lattice.ts";
import { parseCastError } from "../../src/ingest/typed-read.ts";

test("integers widen by width, then to DOUBLE; unsigned joins the signed type twice its width", () => {
  expect(joinTypes("INTEGER", "BIGINT")).toBe("BIGINT");
  expect(joinTypes("TINYINT", "SMALLINT")).toBe("SMALLINT");
  expect(joinTypes("UTINYINT", "TINYINT")).toBe("SMALLINT");
  expect(joinTypes("UINTEGER", "INTEGER")).toBe("BIGINT");
  expect(joinTypes("UBIGINT", "BIGINT")).toBe("DOUBLE");
  expect(joinTypes("BIGINT", "DOUBLE")).toBe("DOUBLE");
  expect(joinTypes("DECIMAL(18,3)", "BIGINT")).toBe("DOUBLE");
  expect(joinTypes("FLOAT", "DOUBLE")).toBe("DOUBLE");
});

test("DATE joins TIMESTAMP; anything else meets at VARCHAR; an all-null type takes the other side", () => {
  expect(joinTypes("DATE", "TIMESTAMP")).toBe("TIMESTAMP");
  expect(joinTypes("DATE", "BIGINT")).toBe("VARCHAR");
  expect(joinTypes("BOOLEAN", "BIGINT")).toBe("VARCHAR");
  expect(joinTypes("VARCHAR[]", "VARCHAR")).toBe("VARCHAR");
  expect(joinTypes("NULL", "DATE")).toBe("DATE");
  expect(widensTo("INTEGER", "DOUBLE")).toBe(true);
  expect(widensTo("DOUBLE", "BIGINT")).toBe(false);
  expect(widensTo("TIMESTAMP", "DATE")).toBe(false);
});

test("integer and DECIMAL columns are never given to a reader, which would round them", () => {
  for (const t of ["BIGINT", "INTEGER", "DECIMAL(10,2)"]) {
    expect(readerCastsExactly(t, "csv")).toBe(false);
    expect(readerCastsExactly(t, "ndjson")).toBe(false);
  }
  expect(readerCastsExactly("DOUBLE", "csv")).toBe(true);
  expect(readerCastsExactly("VARCHAR[]", "csv")).toBe(false);
  expect(readerCastsExactly("VARCHAR[]", "ndjson")).toBe(true);
});

test("DuckDB's cast errors are read back: our marker, the CSV reader's and the JSON reader's", () => {
  expect(parseCastError("Invalid Input Error: LH_CAST\u001fid\u001f\u001f1.5")).toEqual({ column: "id", value: "1.5" });
  expect(parseCastError("Invalid Input Error: LH_CAST\u001fid\u001f7\u001fx\u001fy")).toEqual({ column: "id", value: "x\u001fy", row: 7 });
  expect(
    parseCastError(
      'Conversion Error: CSV Error on Line: 3\nOriginal Line: 2,x,abc\nError when converting column "rate". Could not convert string "abc" to \'DOUBLE\'\n',
    ),
  ).toEqual({ line: 3, column: "rate", value: "abc", type: "DOUBLE" });
  expect(parseCastError('Invalid Input Error: JSON transform error in file "/x", in line 2: Failed to cast value to numerical: "abc"')).toEqual({
    line: 2,
    column: "",
    value: "abc",
  });
  expect(parseCastError('JSON transform error in file "/x", in line 1: invalid date field format: "soon", expected format is (YYYY-MM-DD)')).toMatchObject({
    value: "soon",
  });
  expect(parseCastError("IO Error: No files found")).toBeNull();
});
