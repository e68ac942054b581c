// The worker's side of the wire (src/sql/wire.ts): DuckDB's columns converted to Arrow vectors,
// cut to the byte cap, written as one Arrow IPC stream.
import {
  Binary,
  Bool,
  type DataType,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
} from "apache-arrow";
import { type DuckDBBlobValue, DuckDBTypeId, type DuckDBValue } from "@duckdb/node-api";
import { toJsonValue } from "./values.ts";
import { MAX_SAFE, type WireKind } from "./wire.ts";

const SCALARS: Partial<Record<DuckDBTypeId, [WireKind, () => DataType]>> = {
  [DuckDBTypeId.BOOLEAN]: ["bool", () => new Bool()],
  [DuckDBTypeId.TINYINT]: ["int", () => new Int8()],
  [DuckDBTypeId.SMALLINT]: ["int", () => new Int16()],
  [DuckDBTypeId.INTEGER]: ["int", () => new Int32()],
  [DuckDBTypeId.UTINYINT]: ["int", () => new Uint8()],
  [DuckDBTypeId.USMALLINT]: ["int", () => new Uint16()],
  [DuckDBTypeId.UINTEGER]: ["int", () => new Uint32()],
  [DuckDBTypeId.BIGINT]: ["bigint", () => new Int64()],
  [DuckDBTypeId.UBIGINT]: ["bigint", () => new Uint64()],
  [DuckDBTypeId.FLOAT]: ["float", () => new Float32()],
  [DuckDBTypeId.DOUBLE]: ["float", () => new Float64()],
  [DuckDBTypeId.VARCHAR]: ["string", () => new Utf8()],
  [DuckDBTypeId.BLOB]: ["blob", () => new Binary()],
};

/** Types whose JSON rendering is always a string (values.ts): they travel as that string. */
const TEXT = new Set<DuckDBTypeId>([
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIME,
  DuckDBTypeId.TIME_NS,
  DuckDBTypeId.TIME_TZ,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.INTERVAL,
  DuckDBTypeId.UUID,
  DuckDBTypeId.ENUM,
  DuckDBTypeId.BIT,
]);

export function wireKind(typeId: DuckDBTypeId): [WireKind, DataType] {
  const scalar = SCALARS[typeId];
  if (scalar) return [scalar[0], scalar[1]()];
  return [TEXT.has(typeId) ? "text" : "json", new Utf8()];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/** Bytes of a string once written as a JSON string literal. */
export function jsonStringBytes(s: string): number {
  return NEEDS_ESCAPE.test(s) ? Buffer.byteLength(JSON.stringify(s)) : Buffer.byteLength(s) + 2;
}

export interface WireColumn {
  name: string;
  /** DuckDB's name for the type, as the JSON answer reports it. */
  type: string;
  typeId: DuckDBTypeId;
}

/** One column's values as they travel, and the bytes each would take in the JSON answer. */
function convert(kind: WireKind, value: DuckDBValue): [unknown, number] {
  if (value === null || value === undefined) return [null, 4];
  switch (kind) {
    case "bool":
      return [value, value ? 4 : 5];
    case "int":
      return [value, String(value).length];
    case "bigint": {
      const n = value as bigint;
      return [n, String(n).length + (n >= -MAX_SAFE && n <= MAX_SAFE ? 0 : 2)];
    }
    case "float": {
      const n = value as number;
      return [n, String(n).length + (Number.isFinite(n) ? 0 : 2)];
    }
    case "string":
      return [value, jsonStringBytes(value as string)];
    case "blob": {
      const bytes = (value as DuckDBBlobValue).bytes;
      return [bytes, 4 * Math.ceil(bytes.length / 3) + 2];
    }
    case "text": {
      const text = String(toJsonValue(value));
      return [text, jsonStringBytes(text)];
    }
    case "json": {
      const text = JSON.stringify(toJsonValue(value));
      return [text, Buffer.byteLength(text)];
    }
  }
}

export interface Cut {
  /** Rows kept. */
  rows: number;
  /** Whether the byte cap (rather than the row cap or the end of the result) stopped it. */
  byBytes: boolean;
}

/**
 * The leading rows of `columns` (column-major DuckDB values) whose JSON answer stays within
 * `maxBytes`, converted for the wire. A row is kept whole or not at all.
 */
export function cutColumns(columns: readonly WireColumn[], values: readonly DuckDBValue[][], maxBytes: number): { cut: Cut; data: unknown[][] } {
  const kinds = columns.map((c) => wireKind(c.typeId)[0]);
  const total = values[0]?.length ?? 0;
  const data: unknown[][] = columns.map(() => []);
  // `[` `]` around the rows; each row adds its brackets, commas between values and before it.
  let bytes = 2;
  for (let r = 0; r < total; r++) {
    let row = 2 + Math.max(0, columns.length - 1) + (r > 0 ? 1 : 0);
    const converted: unknown[] = [];
    for (let c = 0; c < columns.length; c++) {
      const [v, size] = convert(kinds[c]!, values[c]![r] as DuckDBValue);
      converted.push(v);
      row += size;
    }
    if (bytes + row > maxBytes) return { cut: { rows: r, byBytes: true }, data };
    bytes += row;
    for (let c = 0; c < columns.length; c++) data[c]!.push(converted[c]);
  }
  return { cut: { rows: total, byBytes: false }, data };
}

/** An Arrow IPC stream of the converted columns, field metadata naming each column and its type. */
export function encodeWire(columns: readonly WireColumn[], data: readonly unknown[][], rows: number): Uint8Array {
  const fields = columns.map((c, i) => {
    const [kind, type] = wireKind(c.typeId);
    return new Field(
      `c${i}`,
      type,
      true,
      new Map([
        ["lakehouse.name", c.name],
        ["lakehouse.type", c.type],
        ["lakehouse.kind", kind],
      ]),
    );
  });
  const children = fields.map((f, i) => columnData(f.metadata.get("lakehouse.kind") as WireKind, f.type, data[i]!));
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }));
  return tableToIPC(new Table([batch]), "stream");
}

/** Validity bits (LSB first, 1 = a value), or none when nothing is null. */
function validity(values: readonly unknown[]): { nullCount: number; nullBitmap?: Uint8Array } {
  let nullCount = 0;
  for (const v of values) if (v === null) nullCount++;
  if (nullCount === 0) return { nullCount };
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i] !== null) nullBitmap[i >> 3]! |= 1 << (i & 7);
  return { nullCount, nullBitmap };
}

/**
 * One column's Arrow data, its buffers filled directly: apache-arrow's generic builders
 * (vectorFromArray) cost ≈10 ms on first use in a process and ≈0.4 ms per small result after
 * 100 (measured on the benchmark's top-10 query), against ≈0.1 ms warm this way.
 */
// biome-ignore lint/suspicious/noExplicitAny: the Data's type follows the column's, known only at run time
function columnData(kind: WireKind, type: DataType, values: readonly unknown[]): any {
  const length = values.length;
  const { nullCount, nullBitmap } = validity(values);
  if (kind === "bool") {
    const bits = new Uint8Array((length + 7) >> 3);
    for (let i = 0; i < length; i++) if (values[i] === true) bits[i >> 3]! |= 1 << (i & 7);
    return makeData({ type: type as Bool, length, nullCount, nullBitmap, data: bits });
  }
  if (kind === "int" || kind === "bigint" || kind === "float") {
    const empty = kind === "bigint" ? 0n : 0;
    const array = new (type as Int32).ArrayType(length) as unknown as { [i: number]: unknown };
    for (let i = 0; i < length; i++) array[i] = values[i] ?? empty;
    return makeData({ type: type as Int32, length, nullCount, nullBitmap, data: array as Int32Array });
  }
  // Utf8 (strings, text, JSON text) or Binary (BLOB bytes).
  const valueOffsets = new Int32Array(length + 1);
  let size = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    size += v === null ? 0 : typeof v === "string" ? Buffer.byteLength(v) : (v as Uint8Array).length;
    if (size > 0x7fffffff) throw new Error("a result column is over 2 GiB");
    valueOffsets[i + 1] = size;
  }
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (typeof v === "string") bytes.write(v, valueOffsets[i]!, "utf8");
    else if (v !== null) bytes.set(v as Uint8Array, valueOffsets[i]!);
  }
  return makeData({ type: type as Utf8, length, nullCount, nullBitmap, valueOffsets, data: bytes });
}
