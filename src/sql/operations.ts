// The SQL module's operation: POST /v1/sql, one read-only statement, answered as JSON, or as Arrow
// IPC or CSV when the Accept header asks for them.
import * as v from "valibot";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import type { QueryResult } from "./engine.ts";
import { EXPORT_TYPES, type ExportType, resultRepresentations } from "./formats.ts";
import type { SqlService } from "./service.ts";

const Param = v.nullable(v.union([v.string(), v.number(), v.boolean()]));

const SqlRequest = named(
  "SqlRequest",
  v.object({
    sql: v.pipe(v.string(), v.minLength(1, "sql is empty")),
    params: v.optional(v.union([v.array(Param), v.record(v.string(), Param)])),
    max_rows: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  }),
);

const QueryResultSchema = named(
  "QueryResult",
  v.object({
    columns: v.array(v.object({ name: v.string(), type: v.string() })),
    /** Values are JSON-safe renderings of DuckDB's (src/sql/values.ts): any JSON value. */
    rows: v.array(v.array(v.unknown())),
    row_count: v.number(),
    truncated: v.boolean(),
    ms: v.number(),
    /** Present when a byte cap cut the result: which cap, and how to get the rest. */
    message: v.optional(v.string()),
  }),
);

const isExport = (type: string | undefined): type is ExportType => EXPORT_TYPES.includes(type as ExportType);

/** Truncation and size travel as headers too, since Arrow and CSV bodies have no place for them. */
const resultHeaders = (r: QueryResult) => ({ "X-Truncated": String(r.truncated), "X-Row-Count": String(r.row_count) });

export function sqlOperations(sql: SqlService): AnyOperation[] {
  return [
    op({
      name: "sql.query",
      method: "post",
      path: "/v1/sql",
      tag: "sql",
      summary: "Run one read-only SQL statement over the datasets (each dataset is a view named after it)",
      description:
        "Accept: application/vnd.apache.arrow.stream for an Arrow IPC stream, text/csv for CSV; JSON otherwise. Every answer carries X-Truncated and X-Row-Count headers. " +
        "A JSON answer is cut before sql.max_response_bytes, an Arrow or CSV export before sql.max_export_bytes (truncated: true; the JSON answer says why in message).",
      body: SqlRequest,
      result: QueryResultSchema,
      errors: {
        bad_request: "Not exactly one read-only statement, a parameter mismatch, or DuckDB rejected it",
        timeout: "Interrupted at the statement timeout (sql.timeout_ms), its worker killed if it ignored the interrupt",
        resource_exhausted: "The statement passed a memory cap (sql.memory_limit, sql.max_statement_rss or sql.max_total_rss; details.limit names it)",
        unavailable: "The SQL worker running the statement died (Retry-After), no worker can start, or a dataset's data files are missing (details.dataset)",
      },
      http: { responseHeaders: resultHeaders, representations: resultRepresentations },
      handler: ({ sql: statement, params, max_rows }, ctx): Promise<QueryResult> =>
        sql.query(statement, params ?? [], { maxRows: max_rows, export: isExport(ctx.representation) ? ctx.representation : undefined }),
    }),
  ];
}
