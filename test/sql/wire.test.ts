// The worker → server wire (Arrow IPC) gives back exactly the JSON the in-process path gave
// (values.ts on DuckDB's rows), for every type, and its byte cap measures the JSON answer exactly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { type JsonValue, toJsonValue } from "../../src/sql/values.ts";
import { decodeWire } from "../../src/sql/wire.ts";
import { cutColumns, encodeWire, type WireColumn } from "../../src/sql/wire-encode.ts";

const EVERY_TYPE = `
  SELECT 1::TINYINT AS ti, -2::SMALLINT AS si, 3::INTEGER AS i, 9007199254740993::BIGINT AS big, -9007199254740991::BIGINT AS safe,
         255::UTINYINT AS uti, 65535::USMALLINT AS usi, 4294967295::UINTEGER AS ui, 18446744073709551615::UBIGINT AS ubig,
         0.1::FLOAT AS f, -0.0::DOUBLE AS negzero, 'nan'::DOUBLE AS nan, '-inf'::DOUBLE AS ninf, 1e300 AS huge_double,
         (-2)::HUGEINT ** 70 AS hugeint_pow, 170141183460469231731687303715884105727::HUGEINT AS hugeint_max, 12::HUGEINT AS hugeint_small,
         340282366920938463463374607431768211455::UHUGEINT AS uhuge, 123456789012345678901234567890::VARINT AS varint,
         12.50::DECIMAL(10,2) AS dec, 1234567890.0123456789::DECIMAL(38,10) AS dec38, DATE '2024-03-01' AS d, DATE '0044-03-15 (BC)' AS bc,
         'infinity'::DATE AS dinf, TIME '12:34:56.789' AS t, '12:34:56+02'::TIMETZ AS ttz, TIMESTAMP '2024-03-01 12:34:56.789' AS ts,
         TIMESTAMPTZ '2024-03-01 12:00:00+00' AS tstz, '2024-03-01 12:34:56'::TIMESTAMP_S AS ts_s, '2024-03-01 12:34:56.789'::TIMESTAMP_MS AS ts_ms,
         '2024-03-01 12:34:56.123456789'::TIMESTAMP_NS AS ts_ns, INTERVAL 3 DAY + INTERVAL 4 HOUR AS iv, uuid '12345678-1234-5678-1234-567812345678' AS u,
         'b'::ENUM('a', 'b') AS e, '10101'::BIT AS bits, '\\xDE\\xAD'::BLOB AS b, ''::BLOB AS empty_blob, 'a "q" \\ \n\t é 中 😀' AS s, '' AS empty,
         [1, 2, NULL] AS l, [{'a': 1, 'b': [true]}] AS nested, {'k': 'v', 'n': 1} AS st, MAP {'a': 1} AS m, [1, 2, 3]::INTEGER[3] AS arr,
         union_value(num := 2)::UNION(num INTEGER, str VARCHAR) AS un, true AS yes, NULL AS nothing`;

/** The row above, then a row of NULLs of the same types. */
const WITH_NULLS = `WITH t AS (${EVERY_TYPE}) SELECT t.* FROM (VALUES (1), (2)) v(k) LEFT JOIN t ON v.k = 1 ORDER BY v.k`;

let db: DuckDBInstance;
let conn: DuckDBConnection;
beforeAll(async () => {
  db = await DuckDBInstance.create(":memory:");
  conn = await db.connect();
});
afterAll(() => {
  conn.closeSync();
  db.closeSync();
});

async function both(sql: string, maxBytes = Number.MAX_SAFE_INTEGER) {
  const reader = await conn.runAndReadAll(sql);
  const columns: WireColumn[] = reader.columnNames().map((name, i) => ({ name, type: reader.columnType(i).toString(), typeId: reader.columnType(i).typeId }));
  const direct: JsonValue[][] = reader.getRows().map((row) => row.map(toJsonValue));
  const { cut, data } = cutColumns(columns, reader.getColumns(), maxBytes);
  const wire = decodeWire(encodeWire(columns, data, cut.rows));
  return { columns, direct, wire, cut };
}

describe("the wire", () => {
  test("every DuckDB type comes back as the JSON values.ts gives, nulls included", async () => {
    const { columns, direct, wire } = await both(WITH_NULLS);
    expect(direct).toHaveLength(2);
    expect(direct[1]!.every((v) => v === null)).toBe(true);
    expect(wire.columns).toEqual(columns.map(({ name, type }) => ({ name, type })));
    expect(wire.rows).toEqual(direct);
    // toEqual treats -0 and 0 alike; JSON does not.
    expect(JSON.stringify(wire.rows)).toBe(JSON.stringify(direct));
  });

  test("repeated column names survive", async () => {
    const { wire } = await both("SELECT 1 AS x, 'two' AS x, 3.5 AS x");
    expect(wire.columns.map((c) => c.name)).toEqual(["x", "x", "x"]);
    expect(wire.rows).toEqual([[1, "two", "3.5"]]);
  });

  test("the byte cap keeps the most whole rows whose JSON fits, measured exactly", async () => {
    const sql = `SELECT i, repeat('é"', i::INT) AS s, [i, NULL] AS l, '\\xFF'::BLOB AS b, i / 3 AS f FROM range(40) t(i)`;
    const { direct } = await both(sql);
    const bytes = (n: number) => Buffer.byteLength(JSON.stringify(direct.slice(0, n)));
    for (const max of [2, 40, 41, 500, 1234, bytes(17), bytes(17) - 1, bytes(40), bytes(40) - 1]) {
      const { wire, cut } = await both(sql, max);
      const n = wire.rows.length;
      expect(bytes(n)).toBeLessThanOrEqual(Math.max(max, 2));
      if (n < direct.length) expect(bytes(n + 1)).toBeGreaterThan(max);
      expect(cut.byBytes).toBe(n < direct.length);
      expect(wire.rows).toEqual(direct.slice(0, n));
    }
  });
});
