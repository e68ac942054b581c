// One caller's statement, run inside a SQL worker: checked to be exactly one read-only statement,
// its parameters bound, at most max_rows rows read, cut to the byte cap and encoded for the trip
// to the server (src/sql/wire.ts), or, for an export, into the Arrow or CSV answer itself.
import { type DuckDBConnection, type DuckDBPreparedStatement, StatementType } from "@duckdb/node-api";
import { BadRequest } from "../errors.ts";
import { encodeResult, type ExportType } from "./formats.ts";
import { explainedStatement, isReadOnly, statementTypeName } from "./statement.ts";
import type { JsonValue } from "./values.ts";
import { fromWireValue } from "./wire.ts";
import { cutColumns, encodeWire, type WireColumn, wireKind } from "./wire-encode.ts";

export type SqlParam = string | number | boolean | null;
export type SqlParams = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;

export interface StatementRequest {
  sql: string;
  params: SqlParams;
  maxRows: number;
  maxBytes: number;
  /** "wire" for the JSON answer (the server decodes it); a media type for an export. */
  format: "wire" | ExportType;
}

export interface StatementAnswer {
  columns: { name: string; type: string }[];
  rowCount: number;
  truncated: boolean;
  /** Whether the byte cap cut the result. */
  cutByBytes: boolean;
  body: Uint8Array;
}

const refused = (what: string) => new BadRequest(`only read-only statements are allowed (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN, SUMMARIZE); this is ${what}`);

function bindParams(prepared: DuckDBPreparedStatement, params: SqlParams): void {
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

export async function runStatement(conn: DuckDBConnection, req: StatementRequest): Promise<StatementAnswer> {
  const extracted = await conn.extractStatements(req.sql);
  if (extracted.count !== 1) throw new BadRequest(`expected exactly one SQL statement, got ${extracted.count}`);
  const prepared = await extracted.prepare(0);
  try {
    if (!isReadOnly(prepared.statementType)) throw refused(statementTypeName(prepared.statementType));
    if (prepared.statementType === StatementType.EXPLAIN) await assertExplainsSelect(conn, req.sql);
    bindParams(prepared, req.params);
    const reader = await prepared.streamAndReadUntil(req.maxRows + 1);
    const columns: WireColumn[] = reader.columnNames().map((name, i) => {
      const type = reader.columnType(i);
      return { name, type: type.toString(), typeId: type.typeId };
    });
    const values = reader.getColumns().map((col) => col.slice(0, req.maxRows));
    const more = reader.currentRowCount > req.maxRows || !reader.done;
    const { cut, data } = cutColumns(columns, values, req.maxBytes);
    const answer = { columns: columns.map(({ name, type }) => ({ name, type })), rowCount: cut.rows, truncated: more || cut.byBytes, cutByBytes: cut.byBytes };
    if (req.format === "wire") return { ...answer, body: encodeWire(columns, data, cut.rows) };
    return { ...answer, body: encodeResult(req.format, answer.columns, jsonRows(columns, data, cut.rows)) };
  } finally {
    prepared.destroySync();
  }
}

/** The JSON rows of converted columns (for an export, encoded here rather than in the server). */
function jsonRows(columns: readonly WireColumn[], data: readonly unknown[][], count: number): JsonValue[][] {
  const kinds = columns.map((c) => wireKind(c.typeId)[0]);
  const rows: JsonValue[][] = [];
  for (let r = 0; r < count; r++) rows.push(kinds.map((k, c) => fromWireValue(k, data[c]![r])));
  return rows;
}
