// Which statements a caller may run. DuckDB reports the type of each prepared statement;
// DESCRIBE, SHOW, SUMMARIZE and read-only PRAGMAs report SELECT, while COPY, SET, ATTACH, CALL,
// LOAD/INSTALL, CREATE, INSERT and the rest report their own types.
import { StatementType } from "@duckdb/node-api";

const READ_ONLY_TYPES: ReadonlySet<StatementType> = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

export function statementTypeName(type: StatementType): string {
  return StatementType[type] ?? String(type);
}

export function isReadOnly(type: StatementType): boolean {
  return READ_ONLY_TYPES.has(type);
}

/**
 * The statement an EXPLAIN wraps, so it can be checked in turn: EXPLAIN ANALYZE executes it, and
 * DuckDB reports EXPLAIN ANALYZE COPY/CREATE/DROP as type EXPLAIN. DuckDB judges the returned
 * text; this only locates it, and gives up (null) on anything but the plain forms
 * `EXPLAIN [ANALYZE] stmt` and `EXPLAIN (options) stmt`, so a comment cannot hide where it starts.
 */
export function explainedStatement(sql: string): string | null {
  const m = /^\s*explain\s+(?:(?:analy[sz]e)\s+|\([^()'"/\-;]*\)\s*)?/i.exec(sql);
  if (!m) return null;
  const inner = sql.slice(m[0].length);
  return inner.trim() === "" || inner.startsWith("(") ? null : inner;
}
