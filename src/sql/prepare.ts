// A caller's statement prepared under the checks every statement passes, whatever it is run for
// (a JSON answer, an Accept representation, an export): exactly one statement, read-only, its
// parameters bound. The read-only refusal comes first: a writing statement DuckDB cannot even bind
// (`DELETE FROM <view>` fails with "Binder Error: Can only delete from base table") is still
// answered with the refusal, never with DuckDB's message about it.
import { type DuckDBConnection, type DuckDBPreparedStatement, StatementType } from "@duckdb/node-api";
import { BadRequest } from "../errors.ts";
import { explainedStatement, isReadOnly, statementTypeName } from "./statement.ts";

export type SqlParam = string | number | boolean | null;
export type SqlParams = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;

export const READ_ONLY_MESSAGE = "only read-only statements are allowed (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN, SUMMARIZE)";

export const refused = (what: string) => new BadRequest(`${READ_ONLY_MESSAGE}; this is ${what}`, { statement: what });

/** DuckDB's messages for more than one statement, or none, given to prepare(). */
const MULTIPLE = /Cannot prepare multiple statements at once|No statement to prepare/;

export function bindParams(prepared: DuckDBPreparedStatement, params: SqlParams): void {
  const expected = prepared.parameterCount;
  const entries: [number, SqlParam][] = Array.isArray(params)
    ? params.map((p, i) => [i + 1, p])
    : Object.entries(params).map(([name, p]) => {
        let index: number;
        try {
          index = prepared.parameterIndex(name);
        } catch (err) {
          throw new BadRequest(`the statement has no parameter named "${name}"`, undefined, { cause: err });
        }
        return [index, p];
      });
  if (entries.length !== expected) throw new BadRequest(`the statement takes ${expected} parameter(s); ${entries.length} given`);
  for (const [i, p] of entries) {
    if (p === null) prepared.bindNull(i);
    else if (typeof p === "boolean") prepared.bindBoolean(i, p);
    else if (typeof p === "string") prepared.bindVarchar(i, p);
    else if (Number.isSafeInteger(p)) prepared.bindBigInt(i, BigInt(p));
    else prepared.bindDouble(i, p);
  }
}

/**
 * Why a statement DuckDB could not prepare failed: if it is not a query, the refusal. DuckDB's
 * parser (json_serialize_sql parses without binding) tells a SELECT from anything else; an EXPLAIN
 * is judged by what it explains; a PRAGMA that does not bind never ran, so its own error stands.
 */
async function refusalFor(conn: DuckDBConnection, sql: string): Promise<BadRequest | null> {
  const inner = explainedStatement(sql);
  if (inner !== null && inner !== sql) return refusalFor(conn, inner);
  let parsed: { error?: boolean; error_message?: string };
  try {
    const reader = await conn.runAndReadAll("SELECT json_serialize_sql($1::VARCHAR)", [sql]);
    parsed = JSON.parse(String(reader.getRows()[0]?.[0]));
  } catch {
    return null;
  }
  if (!parsed.error || !/Only SELECT statements/i.test(parsed.error_message ?? "")) return null;
  const keyword = /^[\s(]*([a-z]+)/i.exec(sql.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*/g, ""))?.[1]?.toUpperCase() ?? "not a query";
  if (keyword === "PRAGMA" || keyword === "EXPLAIN") return null;
  return refused(keyword === "WITH" ? "a WITH that does not end in a query" : keyword);
}

async function assertExplainsSelect(conn: DuckDBConnection, sql: string): Promise<void> {
  const inner = explainedStatement(sql);
  if (inner === null)
    throw new BadRequest("EXPLAIN is allowed only in the forms EXPLAIN [ANALYZE] <query> and EXPLAIN (options) <query>, without comments before the query");
  const extracted = await conn.extractStatements(inner);
  if (extracted.count !== 1) throw new BadRequest("EXPLAIN must wrap exactly one query");
  const prepared = await extracted.prepare(0);
  try {
    if (prepared.statementType !== StatementType.SELECT) throw refused(`EXPLAIN of ${statementTypeName(prepared.statementType)}`);
  } finally {
    prepared.destroySync();
  }
}

/**
 * The caller's one read-only statement, prepared and bound; the caller destroys it. `prepare()`
 * refuses several statements by itself, so the statement is not extracted first (one native
 * round trip less per statement).
 */
export async function prepareChecked(conn: DuckDBConnection, sql: string, params: SqlParams): Promise<DuckDBPreparedStatement> {
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await conn.prepare(sql);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (MULTIPLE.test(message)) {
      const extracted = await conn.extractStatements(sql);
      throw new BadRequest(`expected exactly one SQL statement, got ${extracted.count}`, undefined, { cause: err });
    }
    const refusal = await refusalFor(conn, sql);
    if (refusal) throw refusal;
    throw err;
  }
  try {
    if (!isReadOnly(prepared.statementType)) throw refused(statementTypeName(prepared.statementType));
    if (prepared.statementType === StatementType.EXPLAIN) await assertExplainsSelect(conn, sql);
    bindParams(prepared, params);
    return prepared;
  } catch (err) {
    prepared.destroySync();
    throw err;
  }
}
