// Encodings of a query result besides JSON: an Arrow IPC stream and RFC 4180 CSV. The HTTP edge
// picks one by Accept header (src/ops/http.ts) and sends the bytes the encoder returns.
import { Bool, type DataType, Float64, Int32, Int64, Table, tableToIPC, Utf8, vectorFromArray } from "apache-arrow";
import type { StreamOut } from "../ops/operation.ts";
import type { Column, QueryResult } from "./engine.ts";
import type { JsonValue } from "./values.ts";

const ARROW_STREAM = "application/vnd.apache.arrow.stream";

function arrowType(duckType: string): DataType {
  if (duckType === "BOOLEAN") return new Bool();
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT)$/.test(duckType)) return new Int32();
  if (/^(BIGINT|UINTEGER)$/.test(duckType)) return new Int64();
  if (/^(FLOAT|DOUBLE)$/.test(duckType)) return new Float64();
  return new Utf8();
}

function arrowValue(type: DataType, value: JsonValue): unknown {
  if (value === null) return null;
  if (type instanceof Int64) return BigInt(value as number | string);
  if (type instanceof Float64) return typeof value === "number" ? value : Number(value);
  if (type instanceof Bool || type instanceof Int32) return value;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Unique names for Arrow's schema (SQL allows repeated column names). */
function uniqueNames(columns: Column[]): string[] {
  const seen = new Map<string, number>();
  return columns.map(({ name }) => {
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${name}_${n}`;
  });
}

function toArrowStream(columns: Column[], rows: JsonValue[][]): Uint8Array {
  const names = uniqueNames(columns);
  const vectors = Object.fromEntries(
    columns.map((col, i) => {
      const type = arrowType(col.type);
      return [
        names[i]!,
        vectorFromArray(
          rows.map((r) => arrowValue(type, r[i]!)),
          type,
        ),
      ];
    }),
  );
  return tableToIPC(new Table(vectors), "stream");
}

function csvField(value: JsonValue): string {
  if (value === null) return "";
  const text = typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(columns: Column[], rows: JsonValue[][]): string {
  const lines = [columns.map((c) => csvField(c.name)).join(",")];
  for (const row of rows) lines.push(row.map(csvField).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** The result's other representations, by the media type an Accept header names. */
export const resultRepresentations: Record<string, (result: QueryResult) => StreamOut> = {
  [ARROW_STREAM]: (r) => ({ body: new Uint8Array(toArrowStream(r.columns, r.rows)), contentType: ARROW_STREAM }),
  "text/csv": (r) => ({ body: toCsv(r.columns, r.rows), contentType: "text/csv; charset=utf-8" }),
};
