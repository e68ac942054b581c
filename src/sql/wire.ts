// How a result crosses from a SQL worker to the server: one Arrow IPC stream built from DuckDB's
// columns (src/sql/wire-encode.ts, in the worker). Scalars travel as their own Arrow types
// (booleans, integers of each width, floats, VARCHAR as Utf8, BLOB as Binary); every other type
// (DATE, TIMESTAMP, DECIMAL, HUGEINT, LIST, STRUCT, MAP, ...) travels as text holding its JSON
// rendering (src/sql/values.ts), so the server rebuilds exactly the JSON it always answered. Each
// field carries the column's name and DuckDB type in its metadata (Arrow's IPC writer cannot hold
// two fields of one name; SQL can). This side decodes, and loads no DuckDB into the server.
import { type Data, tableFromIPC } from "apache-arrow";
import type { JsonValue } from "./values.ts";

/** How a column's values travel, and so how they turn back into JSON. */
export type WireKind = "bool" | "int" | "bigint" | "float" | "string" | "blob" | "text" | "json";

export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A travelled value back to its JSON rendering. */
export function fromWireValue(kind: WireKind, value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "bigint": {
      const n = value as bigint;
      return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n.toString();
    }
    case "float":
      return Number.isFinite(value) ? (value as number) : String(value);
    case "blob":
      return Buffer.from(value as Uint8Array).toString("base64");
    case "json":
      return JSON.parse(value as string) as JsonValue;
    default:
      return value as JsonValue;
  }
}

export interface Decoded {
  columns: { name: string; type: string }[];
  rows: JsonValue[][];
}

/** The JSON answer's columns and rows, exactly as values.ts renders them, from a wire stream. */
export function decodeWire(bytes: Uint8Array): Decoded {
  const table = tableFromIPC(bytes);
  const fields = table.schema.fields;
  const columns = fields.map((f) => ({ name: f.metadata.get("lakehouse.name") ?? f.name, type: f.metadata.get("lakehouse.type") ?? String(f.type) }));
  const rows: JsonValue[][] = Array.from({ length: table.numRows }, () => new Array(fields.length));
  fields.forEach((f, c) => {
    const kind = (f.metadata.get("lakehouse.kind") ?? "json") as WireKind;
    let r = 0;
    for (const data of table.getChildAt(c)!.data) for (let i = 0; i < data.length; i++) rows[r++]![c] = fromWireValue(kind, readValue(kind, data, i));
  });
  return { columns, rows };
}

/**
 * One value straight from a column's buffers (apache-arrow's generic `get` costs several times
 * more per value on small results). Fixed-width and offset buffers are already sliced to the
 * Data; bits (booleans, validity) are not.
 */
function readValue(kind: WireKind, data: Data, i: number): unknown {
  if (data.nullCount > 0 && !data.getValid(i)) return null;
  const values = data.values as ArrayLike<unknown> & Uint8Array;
  if (kind === "bool") {
    const bit = data.offset + i;
    return ((values[bit >> 3]! >> (bit & 7)) & 1) === 1;
  }
  if (kind === "int" || kind === "bigint" || kind === "float") return values[i];
  const offsets = data.valueOffsets as Int32Array;
  const bytes = values.subarray(offsets[i]!, offsets[i + 1]!);
  return kind === "blob" ? bytes : utf8.decode(bytes);
}

const utf8 = new TextDecoder();
