// Mode `sql`: one read-only SQL statement over the datasets; rows come as objects (shape "objects") unless the step asks for arrays — the operation sql.query, called in-process with its own schemas.
import { adapter } from "./mode.ts";

export default adapter({
  name: "sql",
  operation: "sql.query",
  summary: 'one read-only SQL statement over the datasets; rows come as objects (shape "objects") unless the step asks for arrays',
  // Objects let later steps reference a column by name: {{steps.q.output.rows[0].hourly_rate}}.
  defaults: { shape: "objects" },
});
