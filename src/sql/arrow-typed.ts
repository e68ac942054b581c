// Arrow IPC for callers (Accept: application/vnd.apache.arrow.stream and POST /v1/sql/export), built
// in the SQL worker from DuckDB's column values with the Arrow type that matches each DuckDB type:
// integers of each width and sign, Float32/64, Bool, Utf8, Binary, Date32 (days), Time64 (µs),
// Timestamp (its unit; TIMESTAMPTZ with tz "UTC"), Decimal128(p, s), List, FixedSizeList (ARRAY),
// Struct and Map. Types Arrow has no plain equivalent for (HUGEINT, UHUGEINT, VARINT, UUID, INTERVAL,
// TIMETZ, ENUM, BIT, UNION) travel as Utf8 holding their JSON rendering (src/sql/values.ts), as the
// JSON answer gives them. The stream is written as messages: the schema once, then one record batch
// per call, then the end marker, so a result can leave in pieces without being held whole.
import {
  Binary,
  Bool,
  type Data,
  type DataType,
  DateDay,
  Decimal,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  Map_,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  TimeUnit,
  Timestamp,
  tableToIPC,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
} from "apache-arrow";
import {
  type DuckDBArrayType,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalType,
  type DuckDBDecimalValue,
  type DuckDBListType,
  type DuckDBListValue,
  type DuckDBMapType,
  type DuckDBMapValue,
  type DuckDBStructType,
  type DuckDBStructValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from "@duckdb/node-api";
import { toJsonValue } from "./values.ts";

/** Arrow's end-of-stream marker: a continuation token and a zero length. */
export const ARROW_EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

const FIXED: Partial<Record<DuckDBTypeId, () => DataType>> = {
  [DuckDBTypeId.BOOLEAN]: () => new Bool(),
  [DuckDBTypeId.TINYINT]: () => new Int8(),
  [DuckDBTypeId.SMALLINT]: () => new Int16(),
  [DuckDBTypeId.INTEGER]: () => new Int32(),
  [DuckDBTypeId.BIGINT]: () => new Int64(),
  [DuckDBTypeId.UTINYINT]: () => new Uint8(),
  [DuckDBTypeId.USMALLINT]: () => new Uint16(),
  [DuckDBTypeId.UINTEGER]: () => new Uint32(),
  [DuckDBTypeId.UBIGINT]: () => new Uint64(),
  [DuckDBTypeId.FLOAT]: () => new Float32(),
  [DuckDBTypeId.DOUBLE]: () => new Float64(),
  [DuckDBTypeId.VARCHAR]: () => new Utf8(),
  [DuckDBTypeId.BLOB]: () => new Binary(),
  [DuckDBTypeId.DATE]: () => new DateDay(),
  [DuckDBTypeId.TIME]: () => new TimeMicrosecond(),
  [DuckDBTypeId.TIMESTAMP]: () => new Timestamp(TimeUnit.MICROSECOND),
  [DuckDBTypeId.TIMESTAMP_TZ]: () => new Timestamp(TimeUnit.MICROSECOND, "UTC"),
  [DuckDBTypeId.TIMESTAMP_S]: () => new Timestamp(TimeUnit.SECOND),
  [DuckDBTypeId.TIMESTAMP_MS]: () => new Timestamp(TimeUnit.MILLISECOND),
  [DuckDBTypeId.TIMESTAMP_NS]: () => new Timestamp(TimeUnit.NANOSECOND),
};

/** The Arrow type a DuckDB type is sent as. */
export function arrowTypeOf(type: DuckDBType): DataType {
  const fixed = FIXED[type.typeId];
  if (fixed) return fixed();
  switch (type.typeId) {
    case DuckDBTypeId.DECIMAL: {
      const d = type as DuckDBDecimalType;
      return new Decimal(d.scale, d.width, 128);
    }
    case DuckDBTypeId.LIST:
      return new List(new Field("item", arrowTypeOf((type as DuckDBListType).valueType), true));
    case DuckDBTypeId.ARRAY: {
      const a = type as DuckDBArrayType;
      return new FixedSizeList(a.length, new Field("item", arrowTypeOf(a.valueType), true));
    }
    case DuckDBTypeId.STRUCT: {
      const s = type as DuckDBStructType;
      return new Struct(s.entryNames.map((name, i) => new Field(name, arrowTypeOf(s.entryTypes[i]!), true)));
    }
    case DuckDBTypeId.MAP: {
      const m = type as DuckDBMapType;
      const entries = new Struct([new Field("key", arrowTypeOf(m.keyType), false), new Field("value", arrowTypeOf(m.valueType), true)]);
      return new Map_(new Field("entries", entries, false));
    }
    default:
      return new Utf8();
  }
}

/** Unique names for Arrow's schema (SQL allows repeated column names; Arrow's reader keys by name). */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${name}_${n}`;
  });
}

function validity(values: readonly unknown[]): { nullCount: number; nullBitmap?: Uint8Array } {
  let nullCount = 0;
  for (const v of values) if (v === null || v === undefined) nullCount++;
  if (nullCount === 0) return { nullCount };
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i] !== null && values[i] !== undefined) nullBitmap[i >> 3]! |= 1 << (i & 7);
  return { nullCount, nullBitmap };
}

const TEN = 10n;
const MASK32 = 0xffffffffn;

/** Text that holds a value with no plain Arrow type: its JSON rendering, unquoted when a string. */
function asText(value: DuckDBValue): string {
  const json = toJsonValue(value);
  return typeof json === "string" ? json : JSON.stringify(json);
}

/** The scaled integer of a DECIMAL value at the column's scale. */
function decimalUnits(value: DuckDBValue, scale: number): bigint {
  const d = value as DuckDBDecimalValue;
  return d.scale === scale ? d.value : d.value * TEN ** BigInt(scale - d.scale);
}

/**
 * One column's Arrow data from its DuckDB values (one per row, null for NULL). Nested values
 * recurse into their children's values.
 */
// biome-ignore lint/suspicious/noExplicitAny: the Data's type follows the column's, known only at run time
export function columnData(duck: DuckDBType, type: DataType, values: readonly DuckDBValue[]): any {
  const length = values.length;
  const { nullCount, nullBitmap } = validity(values);
  const id = duck.typeId;
  const base = { type, length, nullCount, nullBitmap };
  switch (id) {
    case DuckDBTypeId.BOOLEAN: {
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (values[i] === true) bits[i >> 3]! |= 1 << (i & 7);
      return makeData({ ...base, type: type as Bool, data: bits });
    }
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE: {
      const array = new (type as Int32).ArrayType(length) as Int32Array;
      for (let i = 0; i < length; i++) array[i] = (values[i] as number | null) ?? 0;
      return makeData({ ...base, type: type as Int32, data: array });
    }
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT: {
      const array = new (type as Int64).ArrayType(length) as BigInt64Array;
      for (let i = 0; i < length; i++) array[i] = (values[i] as bigint | null) ?? 0n;
      return makeData({ ...base, type: type as Int64, data: array });
    }
    case DuckDBTypeId.DATE: {
      const array = new Int32Array(length);
      for (let i = 0; i < length; i++) array[i] = (values[i] as DuckDBDateValue | null)?.days ?? 0;
      return makeData({ ...base, type: type as DateDay, data: array });
    }
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS: {
      const field =
        id === DuckDBTypeId.TIMESTAMP_S ? "seconds" : id === DuckDBTypeId.TIMESTAMP_MS ? "millis" : id === DuckDBTypeId.TIMESTAMP_NS ? "nanos" : "micros";
      const array = new BigInt64Array(length);
      for (let i = 0; i < length; i++) array[i] = (values[i] as unknown as Record<string, bigint> | null)?.[field] ?? 0n;
      // apache-arrow keeps 64-bit times as pairs of 32-bit words.
      return makeData({ ...base, type: type as Timestamp, data: new Int32Array(array.buffer) });
    }
    case DuckDBTypeId.DECIMAL: {
      const scale = (duck as DuckDBDecimalType).scale;
      const words = new Uint32Array(length * 4);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        // 128-bit two's complement, little-endian 32-bit words.
        let n = BigInt.asUintN(128, decimalUnits(v, scale));
        for (let w = 0; w < 4; w++, n >>= 32n) words[i * 4 + w] = Number(n & MASK32);
      }
      return makeData({ ...base, type: type as Decimal, data: words });
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.MAP: {
      const isMap = id === DuckDBTypeId.MAP;
      const valueOffsets = new Int32Array(length + 1);
      const children: DuckDBValue[] = [];
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) {
          if (isMap) for (const e of (v as DuckDBMapValue).entries) children.push({ entries: { key: e.key, value: e.value } } as unknown as DuckDBValue);
          else for (const item of (v as DuckDBListValue).items) children.push(item);
        }
        valueOffsets[i + 1] = children.length;
      }
      const childField = (type as List).children[0]!;
      const childDuck: DuckDBType = isMap
        ? ({
            typeId: DuckDBTypeId.STRUCT,
            entryNames: ["key", "value"],
            entryTypes: [(duck as DuckDBMapType).keyType, (duck as DuckDBMapType).valueType],
          } as unknown as DuckDBType)
        : (duck as DuckDBListType).valueType;
      const child = columnData(childDuck, childField.type, children);
      return makeData({ ...base, type: type as List, valueOffsets, child });
    }
    case DuckDBTypeId.ARRAY: {
      const a = duck as DuckDBArrayType;
      const children: DuckDBValue[] = [];
      for (let i = 0; i < length; i++) {
        const v = values[i] as { items: DuckDBValue[] } | null;
        for (let k = 0; k < a.length; k++) children.push(v ? (v.items[k] ?? null) : null);
      }
      const child = columnData(a.valueType, (type as FixedSizeList).children[0]!.type, children);
      return makeData({ ...base, type: type as FixedSizeList, child });
    }
    case DuckDBTypeId.STRUCT: {
      const s = duck as DuckDBStructType;
      const fields = (type as Struct).children;
      const children = s.entryNames.map((name, c) =>
        columnData(
          s.entryTypes[c]!,
          fields[c]!.type,
          values.map((v) => (v === null || v === undefined ? null : ((v as DuckDBStructValue).entries[name] ?? null))),
        ),
      );
      return makeData({ ...base, type: type as Struct, children });
    }
    default:
      return bytesData(type, base, values, id === DuckDBTypeId.BLOB, id === DuckDBTypeId.VARCHAR);
  }
}

function bytesData(
  type: DataType,
  base: { length: number; nullCount: number; nullBitmap?: Uint8Array },
  values: readonly DuckDBValue[],
  blob: boolean,
  text: boolean,
): Data {
  const { length } = base;
  const parts: (Uint8Array | string | null)[] = new Array(length);
  const valueOffsets = new Int32Array(length + 1);
  let size = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    let part: Uint8Array | string | null = null;
    if (v !== null && v !== undefined) part = blob ? (v as DuckDBBlobValue).bytes : text ? (v as string) : asText(v);
    parts[i] = part;
    size += part === null ? 0 : typeof part === "string" ? Buffer.byteLength(part) : part.length;
    if (size > 0x7fffffff) throw new Error("a result column is over 2 GiB in one batch");
    valueOffsets[i + 1] = size;
  }
  const data = Buffer.allocUnsafe(size);
  for (let i = 0; i < length; i++) {
    const p = parts[i];
    if (typeof p === "string") data.write(p, valueOffsets[i]!, "utf8");
    else if (p) data.set(p, valueOffsets[i]!);
  }
  return makeData({ ...base, type: type as Utf8, valueOffsets, data });
}

/**
 * Writes a result as an Arrow IPC stream a piece at a time. apache-arrow writes whole streams (schema,
 * batches, end marker); each piece here is one such stream with the schema message cut from all but
 * the first and the end marker from all (no dictionaries are used, so nothing else repeats).
 */
export class ArrowStreamEncoder {
  readonly schema: Schema;
  private readonly schemaLength: number;
  private started = false;

  constructor(
    names: readonly string[],
    private readonly types: readonly DuckDBType[],
  ) {
    const unique = uniqueNames(names);
    this.schema = new Schema(types.map((t, i) => new Field(unique[i]!, arrowTypeOf(t), true)));
    this.schemaLength = tableToIPC(new Table(this.schema), "stream").length - ARROW_EOS.length;
  }

  /** The schema message: the start of the stream (sent alone for an empty result). */
  head(): Uint8Array {
    this.started = true;
    return tableToIPC(new Table(this.schema), "stream").subarray(0, this.schemaLength);
  }

  /** One record batch of `rows` rows from column-major DuckDB values (with the schema first, the first time). */
  batch(columns: readonly (readonly DuckDBValue[])[], rows: number): Uint8Array {
    const children = this.types.map((t, c) =>
      columnData(t, this.schema.fields[c]!.type, columns[c]!.length === rows ? columns[c]! : columns[c]!.slice(0, rows)),
    );
    const batch = new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length: rows, nullCount: 0, children }));
    const whole = tableToIPC(new Table([batch]), "stream");
    const from = this.started ? this.schemaLength : 0;
    this.started = true;
    return whole.subarray(from, whole.length - ARROW_EOS.length);
  }

  /** The end of the stream; with the schema first when nothing was written. */
  end(): Uint8Array {
    if (this.started) return ARROW_EOS;
    const head = this.head();
    const out = new Uint8Array(head.length + ARROW_EOS.length);
    out.set(head);
    out.set(ARROW_EOS, head.length);
    return out;
  }
}
