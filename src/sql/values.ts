// DuckDB values to JSON that survives any JSON parser: integers beyond ±2^53 and DECIMALs as
// strings, dates and timestamps as ISO-8601, BLOBs as base64, nested types as JSON.
import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUnionValue,
  type DuckDBValue,
} from "@duckdb/node-api";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** "2024-01-02 03:04:05.123" → "2024-01-02T03:04:05.123"; a "+02" zone becomes "+02:00". */
export function isoTimestamp(text: string): string {
  const t = text.replace(" ", "T");
  return /[+-]\d\d$/.test(t) ? `${t}:00` : t;
}

export function toJsonValue(value: DuckDBValue): JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  if (value instanceof DuckDBDecimalValue || value instanceof DuckDBDateValue) return value.toString();
  if (
    value instanceof DuckDBTimestampValue ||
    value instanceof DuckDBTimestampTZValue ||
    value instanceof DuckDBTimestampSecondsValue ||
    value instanceof DuckDBTimestampMillisecondsValue ||
    value instanceof DuckDBTimestampNanosecondsValue
  ) {
    return isoTimestamp(value.toString());
  }
  if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes).toString("base64");
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(toJsonValue);
  if (value instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, toJsonValue(v)]));
  }
  if (value instanceof DuckDBMapValue) return value.entries.map((e) => ({ key: toJsonValue(e.key), value: toJsonValue(e.value) }));
  if (value instanceof DuckDBUnionValue) return { [value.tag]: toJsonValue(value.value) };
  return String(value);
}
