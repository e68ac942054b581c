// Arrow answers carry DuckDB's types as Arrow types, read back with apache-arrow's own reader, both
// from POST /v1/sql (Accept) and from POST /v1/sql/export: the schema's types, then the values,
// then a row of NULLs of every type.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Table, tableFromIPC } from "apache-arrow";
import { testLakehouse } from "../support/app.ts";
import { call } from "../support/http.ts";
import { sql } from "../support/sql.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

const COLUMNS = `
  DATE '2024-03-01' AS d, TIMESTAMP '2024-03-01 12:34:56.789' AS ts, TIMESTAMPTZ '2024-03-01 12:00:00+00' AS tstz,
  '2024-03-01 12:34:56'::TIMESTAMP_S AS ts_s, '2024-03-01 12:34:56.789'::TIMESTAMP_MS AS ts_ms, '2024-03-01 12:34:56.123456789'::TIMESTAMP_NS AS ts_ns,
  TIME '12:34:56.789' AS t, 12345.678::DECIMAL(18,3) AS dec18, -1234567890.0123456789::DECIMAL(38,10) AS dec38, 1.5::DECIMAL(4,1) AS dec4,
  [1, 2, NULL] AS l, [['a'], [], ['b', 'c']] AS ll, {'k': 'v', 'n': 1} AS st, [1, 2, 3]::INTEGER[3] AS arr, MAP {'a': 1} AS m,
  '\\xDE\\xAD'::BLOB AS b, 0.5::FLOAT AS f, 0.25::DOUBLE AS dbl,
  -1::TINYINT AS ti, -2::SMALLINT AS si, 3::INTEGER AS i, 9007199254740993::BIGINT AS big,
  255::UTINYINT AS uti, 65535::USMALLINT AS usi, 4294967295::UINTEGER AS ui, 18446744073709551615::UBIGINT AS ubig,
  true AS yes, 'é 中 😀' AS s, uuid '12345678-1234-5678-1234-567812345678' AS u, 170141183460469231731687303715884105727::HUGEINT AS huge`;

/** The row above, then a row of NULLs of the same types. */
const STATEMENT = `WITH t AS (SELECT ${COLUMNS}) SELECT t.* FROM (VALUES (1), (2)) v(k) LEFT JOIN t ON v.k = 1 ORDER BY v.k`;

const EXPECTED_TYPES = {
  d: "Date32<DAY>",
  ts: "Timestamp<MICROSECOND>",
  tstz: "Timestamp<MICROSECOND, UTC>",
  ts_s: "Timestamp<SECOND>",
  ts_ms: "Timestamp<MILLISECOND>",
  ts_ns: "Timestamp<NANOSECOND>",
  t: "Time64<MICROSECOND>",
  dec18: "Decimal[18e+3]",
  dec38: "Decimal[38e+10]",
  dec4: "Decimal[4e+1]",
  l: "List<Int32>",
  ll: "List<List<Utf8>>",
  st: "Struct<{k:Utf8, n:Int32}>",
  arr: "FixedSizeList[3]<Int32>",
  m: "Map<{key:Utf8, value:Int32}>",
  b: "Binary",
  f: "Float32",
  dbl: "Float64",
  ti: "Int8",
  si: "Int16",
  i: "Int32",
  big: "Int64",
  uti: "Uint8",
  usi: "Uint16",
  ui: "Uint32",
  ubig: "Uint64",
  yes: "Bool",
  s: "Utf8",
  u: "Utf8",
  huge: "Utf8",
};

/** A Decimal128 value as apache-arrow reads it (four little-endian 32-bit words) back to the scaled integer. */
function decimal(value: unknown): bigint {
  const words = value as Uint32Array;
  let n = 0n;
  for (let w = 3; w >= 0; w--) n = (n << 32n) | BigInt(words[w]!);
  return BigInt.asIntN(128, n);
}

function checkTable(table: Table): void {
  expect(table.numRows).toBe(2);
  expect(Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]))).toEqual(EXPECTED_TYPES);
  const get = (name: string, row = 0) => table.getChild(name)!.get(row);
  const utc = (iso: string) => Date.parse(`${iso}Z`);
  // Dates and timestamps read as epoch milliseconds.
  expect(get("d")).toBe(utc("2024-03-01T00:00:00"));
  expect(get("ts")).toBe(utc("2024-03-01T12:34:56.789"));
  expect(get("tstz")).toBe(utc("2024-03-01T12:00:00"));
  expect(get("ts_s")).toBe(utc("2024-03-01T12:34:56"));
  expect(get("ts_ms")).toBe(utc("2024-03-01T12:34:56.789"));
  // Nanoseconds do not fit a millisecond double: the exact count from the column's buffer.
  const nanos = table.getChild("ts_ns")!.data[0]!.values as Int32Array;
  expect(new BigInt64Array(nanos.buffer, nanos.byteOffset, 1)[0]).toBe(1_709_296_496_123_456_789n);
  // apache-arrow reads a Time64 as a bigint count of nanoseconds, whatever its unit.
  expect(BigInt(get("t") as bigint)).toBe(45_296_789_000n);
  expect(decimal(get("dec18"))).toBe(12_345_678n);
  expect(decimal(get("dec38"))).toBe(-12_345_678_900_123_456_789n);
  expect(decimal(get("dec4"))).toBe(15n);
  expect([...(get("l") as Iterable<unknown>)]).toEqual([1, 2, null]);
  expect([...(get("ll") as Iterable<Iterable<unknown>>)].map((x) => [...x])).toEqual([["a"], [], ["b", "c"]]);
  expect((get("st") as { toJSON(): unknown }).toJSON()).toEqual({ k: "v", n: 1 });
  expect([...(get("arr") as Iterable<unknown>)]).toEqual([1, 2, 3]);
  expect((get("m") as { toJSON(): unknown }).toJSON()).toEqual({ a: 1 });
  expect([...(get("b") as Uint8Array)]).toEqual([0xde, 0xad]);
  expect(get("f")).toBe(0.5);
  expect(get("dbl")).toBe(0.25);
  expect([get("ti"), get("si"), get("i"), get("big")]).toEqual([-1, -2, 3, 9007199254740993n]);
  expect([get("uti"), get("usi"), get("ui"), get("ubig")]).toEqual([255, 65535, 4294967295, 18446744073709551615n]);
  expect(get("yes")).toBe(true);
  expect(get("s")).toBe("é 中 😀");
  expect(get("u")).toBe("12345678-1234-5678-1234-567812345678");
  expect(get("huge")).toBe("170141183460469231731687303715884105727");
  for (const name of Object.keys(EXPECTED_TYPES)) expect([name, get(name, 1)]).toEqual([name, null]);
}

describe("typed Arrow answers", () => {
  let lh: LH;
  beforeAll(async () => {
    lh = await testLakehouse();
  });
  afterAll(() => lh.close());

  test("POST /v1/sql with Accept: Arrow gives every type its Arrow type", async () => {
    const res = await sql(lh, STATEMENT, {}, { accept: "application/vnd.apache.arrow.stream" });
    expect(res.status).toBe(200);
    checkTable(tableFromIPC(new Uint8Array(await res.arrayBuffer())));
  });

  test("POST /v1/sql/export as arrow gives the same", async () => {
    const res = await call(lh, "/v1/sql/export", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql: STATEMENT, format: "arrow" }),
    });
    expect(res.status).toBe(200);
    checkTable(tableFromIPC(new Uint8Array(await res.arrayBuffer())));
  });
});
