// The representations of a /v1/sql answer besides JSON, chosen by Accept: a typed Arrow IPC stream
// (src/sql/arrow-typed.ts) and RFC 4180 CSV (src/sql/csv.ts), both capped by max_rows and
// sql.max_export_bytes like the statement they answer. They are encoded inside the SQL worker from
// DuckDB's values (src/sql/execute.ts); the server sends the bytes it gets. The media types of
// POST /v1/sql/export are here too.
import type { StreamOut } from "../ops/operation.ts";
import type { QueryResult } from "./engine.ts";

export const ARROW_STREAM = "application/vnd.apache.arrow.stream";

export type ExportType = typeof ARROW_STREAM | "text/csv";

export const EXPORT_TYPES: readonly ExportType[] = [ARROW_STREAM, "text/csv"];

const CONTENT_TYPES: Record<ExportType, string> = { [ARROW_STREAM]: ARROW_STREAM, "text/csv": "text/csv; charset=utf-8" };

/** The formats of POST /v1/sql/export and the media type each is sent as. */
export const EXPORT_FORMATS = {
  csv: "text/csv; charset=utf-8",
  ndjson: "application/x-ndjson",
  arrow: ARROW_STREAM,
  parquet: "application/vnd.apache.parquet",
} as const;

export type ExportFormat = keyof typeof EXPORT_FORMATS;

/** Answers already encoded by a worker, by the result they belong to. */
const encoded = new WeakMap<QueryResult, { type: ExportType; body: Uint8Array }>();

/** Marks `result` as an answer whose body is already encoded as `type`. */
export function withEncoded(result: QueryResult, type: ExportType, body: Uint8Array): QueryResult {
  encoded.set(result, { type, body });
  return result;
}

function representation(type: ExportType) {
  return (r: QueryResult): StreamOut => {
    const done = encoded.get(r);
    // The handler runs the statement for the representation the edge chose, so the worker encoded it.
    if (done?.type !== type) throw new Error(`the SQL answer was not encoded as ${type}`);
    return { body: done.body, contentType: CONTENT_TYPES[type], length: done.body.byteLength };
  };
}

/** The result's other representations, by the media type an Accept header names. */
export const resultRepresentations: Record<string, (result: QueryResult) => StreamOut> = Object.fromEntries(EXPORT_TYPES.map((t) => [t, representation(t)]));
