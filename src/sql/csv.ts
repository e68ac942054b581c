// RFC 4180 CSV and NDJSON lines of DuckDB values, each value as the JSON answer renders it
// (src/sql/values.ts): numbers and booleans as they are, dates and timestamps in ISO-8601, BLOBs in
// base64, nested values as JSON text; NULL is an empty field (CSV) or null (NDJSON).
import type { DuckDBValue } from "@duckdb/node-api";
import { type JsonValue, toJsonValue } from "./values.ts";

function csvField(value: JsonValue): string {
  if (value === null) return "";
  const text = typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Lines of `rows` rows of column-major values (with the header line first when asked), each ended by CRLF. */
export function csvLines(names: readonly string[], columns: readonly (readonly DuckDBValue[])[], rows: number, header: boolean): string {
  const lines: string[] = header ? [names.map(csvField).join(",")] : [];
  const width = columns.length;
  for (let r = 0; r < rows; r++) {
    let line = "";
    for (let c = 0; c < width; c++) line += (c > 0 ? "," : "") + csvField(toJsonValue(columns[c]![r]!));
    lines.push(line);
  }
  return lines.length === 0 ? "" : `${lines.join("\r\n")}\r\n`;
}

/** One JSON object per row, keyed by `names` (unique), each line ended by LF. */
export function ndjsonLines(names: readonly string[], columns: readonly (readonly DuckDBValue[])[], rows: number): string {
  let out = "";
  for (let r = 0; r < rows; r++) {
    const row: Record<string, JsonValue> = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = toJsonValue(columns[c]![r]!);
    out += `${JSON.stringify(row)}\n`;
  }
  return out;
}
