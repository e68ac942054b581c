// The SQL module's port for other modules (src/ports.ts): read-only SQL in-process, under the same
// sandbox and limits as POST /v1/sql.
import type { SqlPort } from "../ports.ts";
import type { SqlService } from "./service.ts";

export function sqlPort(sql: Pick<SqlService, "query">): SqlPort {
  return {
    async query(statement, params = [], opts = {}) {
      const { columns, rows, row_count, truncated } = await sql.query(statement, params, { maxRows: opts.maxRows });
      return { columns, rows, row_count, truncated };
    },
  };
}
