// POST /v1/sql: one read-only statement, answered as JSON, Arrow IPC or CSV by Accept header.
import * as v from "valibot";
import type { ApiSpec } from "../http/openapi.ts";
import { ModuleRouter } from "../http/router.ts";
import type { QueryResult, SqlParams } from "./engine.ts";
import { ARROW_STREAM, negotiate, toArrowStream, toCsv } from "./formats.ts";

const Param = v.nullable(v.union([v.string(), v.number(), v.boolean()]));

const SqlRequest = v.object({
  sql: v.pipe(v.string(), v.minLength(1, "sql is empty")),
  params: v.optional(v.union([v.array(Param), v.record(v.string(), Param)])),
  max_rows: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});

const SqlResponse = v.object({
  columns: v.array(v.object({ name: v.string(), type: v.string() })),
  rows: v.array(v.array(v.unknown())),
  row_count: v.number(),
  truncated: v.boolean(),
  ms: v.number(),
});

export function sqlRoutes(
  query: (sql: string, params: SqlParams, opts: { maxRows?: number }) => Promise<QueryResult>,
  api: ApiSpec,
  jsonLimit: number,
): ModuleRouter {
  const r = new ModuleRouter(api, "/v1/sql", "sql", jsonLimit);
  r.route(
    {
      method: "post",
      path: "",
      summary: "Run one read-only SQL statement over the datasets (each dataset is a view named after it)",
      description: "Accept: application/vnd.apache.arrow.stream for an Arrow IPC stream, text/csv for CSV; JSON otherwise. Truncation is signalled by the X-Truncated header for Arrow and CSV.",
      body: SqlRequest,
      responses: {
        200: { description: "Result", schema: SqlResponse },
        400: { description: "Not exactly one read-only statement, or DuckDB rejected it" },
        504: { description: "Interrupted at the statement timeout" },
      },
    },
    async (c, { body }) => {
      const format = negotiate(c.req.header("accept"));
      const result = await query(body.sql, body.params ?? [], { maxRows: body.max_rows });
      const headers = { "X-Truncated": String(result.truncated), "X-Row-Count": String(result.row_count) };
      if (format === "arrow") return c.body(new Uint8Array(toArrowStream(result.columns, result.rows)), 200, { ...headers, "Content-Type": ARROW_STREAM });
      if (format === "csv") return c.body(toCsv(result.columns, result.rows), 200, { ...headers, "Content-Type": "text/csv; charset=utf-8" });
      return c.json(result);
    },
  );
  return r;
}
