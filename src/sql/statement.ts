// Which statements a caller may run. DuckDB reports the type of each prepared statement;
// DESCRIBE, SHOW, SUMMARIZE and read-only PRAGMAs report SELECT, while COPY, SET, ATTACH, CALL,
// LOAD/INSTALL, CREATE, INSERT and the rest report their own types.
import { StatementType } from "@duckdb/node-api";

export const READ_ONLY_TYPES: ReadonlySet<StatementType> = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

export function statementTypeName(type: StatementType): string {
  return StatementType[type] ?? String(type);
}

export function isReadOnly(type: StatementType): boolean {
  return READ_ONLY_TYPES.has(type);
}
