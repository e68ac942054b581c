// The SQL module's operations: POST /v1/sql, one read-only statement answered as JSON (rows as
// arrays or objects), or as typed Arrow IPC or CSV when the Accept header asks, capped by max_rows;
// and POST /v1/sql/export, the whole result streamed as CSV, NDJSON, Arrow or Parquet.
import * as v from "valibot";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, op, type StreamOut } from "../ops/operation.ts";
import { uniqueNames } from "./arrow-typed.ts";
import type { QueryResult } from "./engine.ts";
import { EXPORT_FORMATS, EXPORT_TYPES, type ExportType, resultRepresentations } from "./formats.ts";
import type { SqlService } from "./service.ts";
import type { JsonValue } from "./values.ts";

const Param = v.nullable(v.union([v.string(), v.number(), v.boolean()]));
const Params = v.optional(v.union([v.array(Param), v.record(v.string(), Param)]));
const Statement = v.pipe(v.string(), v.minLength(1, "sql is empty"));

const SqlRequest = named(
  "SqlRequest",
  v.object({
    sql: Statement,
    params: Params,
    /** At most sql.max_rows (a larger value is a 400 naming the cap). */
    max_rows: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    /** "arrays" (the default): each row an array in column order; "objects": each row an object keyed by column name. */
    shape: v.optional(v.picklist(["arrays", "objects"])),
  }),
);

const QueryResultSchema = named(
  "QueryResult",
  v.object({
    columns: v.array(v.object({ name: v.string(), type: v.string() })),
    /**
     * Values are JSON-safe renderings of DuckDB's (src/sql/values.ts): any JSON value. Arrays in
     * column order (shape "arrays"), or objects keyed by column name (shape "objects"; a repeated
     * name gets a suffix: x, x_1, x_2).
     */
    rows: v.array(v.union([v.array(v.unknown()), v.record(v.string(), v.unknown())])),
    row_count: v.number(),
    truncated: v.boolean(),
    ms: v.number(),
    /** Present when the result was cut (max_rows or a byte cap): which limit, and how to get the rest. */
    message: v.optional(v.string()),
  }),
);

const ExportRequest = named(
  "SqlExportRequest",
  v.object({
    sql: Statement,
    params: Params,
    format: v.picklist(Object.keys(EXPORT_FORMATS) as (keyof typeof EXPORT_FORMATS)[]),
  }),
);

const isRepresentation = (type: string | undefined): type is ExportType => EXPORT_TYPES.includes(type as ExportType);

/** Truncation and size travel as headers too, since Arrow and CSV bodies have no place for them. */
const resultHeaders = (r: QueryResult) => ({ "X-Truncated": String(r.truncated), "X-Row-Count": String(r.row_count) });

function asObjects(result: QueryResult): QueryResult {
  const keys = uniqueNames(result.columns.map((c) => c.name));
  const rows = (result.rows as JsonValue[][]).map((row) => Object.fromEntries(keys.map((k, i) => [k, row[i] ?? null])));
  return { ...result, rows: rows as unknown as JsonValue[][] };
}

const STATEMENT_ERRORS = {
  bad_request: "Not exactly one read-only statement (writing statements are refused before anything else), a parameter mismatch, or DuckDB rejected it",
  resource_exhausted: "The statement passed a memory cap (sql.memory_limit, sql.max_statement_rss or sql.max_total_rss; details.limit names it)",
  unavailable: "The SQL worker running the statement died (Retry-After), no worker can start, or a dataset's data files are missing (details.dataset)",
} as const;

export function sqlOperations(sql: SqlService): AnyOperation[] {
  return [
    op({
      name: "sql.query",
      method: "post",
      path: "/v1/sql",
      tag: "sql",
      summary: "Run one read-only SQL statement over the datasets (each dataset is a view named after it)",
      description:
        "At most max_rows rows (default and cap sql.max_rows; more is a 400): a longer result says truncated: true with a message, and POST /v1/sql/export streams it whole. " +
        'shape: "objects" returns each row as an object keyed by column name. ' +
        "Accept: application/vnd.apache.arrow.stream answers a typed Arrow IPC stream (Date32, Timestamp, Decimal128, List, Struct, Binary, integers of each width, ...) " +
        "and text/csv CSV, under the same max_rows; JSON otherwise. Every answer carries X-Truncated and X-Row-Count headers. " +
        "A JSON answer is cut before sql.max_response_bytes, an Arrow or CSV answer before sql.max_export_bytes (truncated: true; the JSON answer says why in message).",
      body: SqlRequest,
      result: QueryResultSchema,
      errors: {
        ...STATEMENT_ERRORS,
        validation_failed: "A malformed request, or max_rows over sql.max_rows (details name the cap)",
        timeout: "Interrupted at the statement timeout (sql.timeout_ms), its worker killed if it ignored the interrupt",
      },
      http: { responseHeaders: resultHeaders, representations: resultRepresentations },
      handler: async ({ sql: statement, params, max_rows, shape }, ctx): Promise<QueryResult> => {
        const representation = isRepresentation(ctx.representation) ? ctx.representation : undefined;
        const result = await sql.query(statement, params ?? [], { maxRows: max_rows, export: representation, signal: ctx.signal });
        return shape === "objects" && !representation ? asObjects(result) : result;
      },
    }),
    op({
      name: "sql.export",
      method: "post",
      path: "/v1/sql/export",
      tag: "sql",
      summary: "Stream the whole result of one read-only SQL statement as CSV, NDJSON, Arrow IPC or Parquet",
      description:
        "The same statement checks as POST /v1/sql, without max_rows: the result streams with bounded memory, capped by sql.max_export_bytes and " +
        "sql.export_timeout_ms. csv: RFC 4180 with a header line; ndjson: one JSON object per row; arrow: a typed Arrow IPC stream of record batches; " +
        "parquet: a Parquet file (zstd). A statement that fails before its first byte is an ordinary error answer; an export that cannot finish " +
        "(past sql.max_export_bytes or sql.export_timeout_ms, its worker stopped) is cut: the response ends without the end of its chunked body, " +
        "which HTTP clients report as an error, so a cut export never looks complete. A client that disconnects stops the statement.",
      body: ExportRequest,
      result: "stream",
      produces: Object.values(EXPORT_FORMATS).map((t) => t.split(";")[0]!),
      errors: {
        ...STATEMENT_ERRORS,
        resource_exhausted: `${STATEMENT_ERRORS.resource_exhausted}; or a Parquet export over sql.max_export_bytes`,
        timeout: "No worker was free, or the statement did not start producing, within sql.export_timeout_ms",
      },
      handler: async ({ sql: statement, params, format }, ctx): Promise<StreamOut> => {
        const started = await sql.export(statement, params ?? [], format, ctx.signal);
        return { body: started.body, contentType: started.contentType };
      },
    }),
  ];
}
