// POST /v1/sql on any target of ./http.ts.
import { call, type Target } from "./http.ts";

/** The query's response, as is; `extra` joins `sql` in the body (params, max_rows, …). */
export function sql(target: Target, statement: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return call(target, "/v1/sql", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ sql: statement, ...extra }),
  });
}

/** The result rows of a query that must succeed. */
export async function rows(target: Target, statement: string, params?: unknown): Promise<unknown[][]> {
  const res = await sql(target, statement, params === undefined ? {} : { params });
  const body = (await res.json()) as { rows: unknown[][] };
  if (res.status !== 200) throw new Error(`SQL failed with ${res.status}: ${JSON.stringify(body)}`);
  return body.rows;
}
