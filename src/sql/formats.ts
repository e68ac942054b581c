// Encodings of a query result besides JSON: an Arrow IPC stream and RFC 4180 CSV. The HTTP edge
// picks one by Accept header (src/ops/http.ts) and sends the bytes the encoder returns. A statement
// run for an export is encoded inside its SQL worker (src/sql/execute.ts), so the server only holds
// the finished bytes; a result from in-process code is encoded here from its rows.
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

export type ExportType = typeof ARROW_STREAM | "text/csv";

export const EXPORT_TYPES: readonly ExportType[] = [ARROW_STREAM, "text/csv"];

/** The bytes of an export of these rows. */
export function encodeResult(type: ExportType, columns: Column[], rows: JsonValue[][]): Uint8Array {
  return type === ARROW_STREAM ? toArrowStream(columns, rows) : new TextEncoder().encode(toCsv(columns, rows));
}

const CONTENT_TYPES: Record<ExportType, string> = { [ARROW_STREAM]: ARROW_STREAM, "text/csv": "text/csv; charset=utf-8" };

/** Exports already encoded by a worker, by the result they belong to. */
const encoded = new WeakMap<QueryResult, { type: ExportType; body: Uint8Array }>();

/** Marks `result` as an export whose body is already encoded as `type`. */
export function withEncoded(result: QueryResult, type: ExportType, body: Uint8Array): QueryResult {
  encoded.set(result, { type, body });
  return result;
}

function representation(type: ExportType) {
  return (r: QueryResult): StreamOut => {
    const done = encoded.get(r);
    const body = done?.type === type ? done.body : encodeResult(type, r.columns, r.rows);
    return { body, contentType: CONTENT_TYPES[type], length: body.byteLength };
  };
}

/** The result's other representations, by the media type an Accept header names. */
export const resultRepresentations: Record<string, (result: QueryResult) => StreamOut> = Object.fromEntries(EXPORT_TYPES.map((t) => [t, representation(t)]));
