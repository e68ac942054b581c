// The in-process DuckDB that answers SQL: one sandboxed instance, a bounded set of connections,
// one view per dataset. Every request is checked to be exactly one read-only statement before it
// runs, and interrupted when it passes its time limit.
import { type DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement, StatementType } from "@duckdb/node-api";
import { BadRequest, LakehouseError, Timeout } from "../errors.ts";
import { KeyedLock } from "../lib/keyed-lock.ts";
import { Semaphore } from "../lib/semaphore.ts";
import { explainedStatement, isReadOnly, statementTypeName } from "./statement.ts";
import { type JsonValue, toJsonValue } from "./values.ts";

export type SqlParam = string | number | boolean | null;
export type SqlParams = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;

export interface Column {
  name: string;
  type: string;
}

export interface QueryResult {
  columns: Column[];
  rows: JsonValue[][];
  row_count: number;
  truncated: boolean;
  ms: number;
}

export interface QueryOptions {
  maxRows?: number;
  timeoutMs?: number;
}

export interface EngineOptions {
  /** Directories DuckDB may read; nothing else on this machine is reachable from SQL. */
  allowedDirs: string[];
  threads: number;
  memoryLimit: string;
  timeoutMs: number;
  maxRows: number;
  maxConcurrent: number;
}

/** At most `size` connections in use; a connection interrupted by a timeout is closed, not reused. */
class ConnectionPool {
  private readonly idle: DuckDBConnection[] = [];
  private readonly slots: Semaphore;

  constructor(
    private readonly instance: DuckDBInstance,
    size: number,
  ) {
    this.slots = new Semaphore(size);
  }

  async acquire(): Promise<DuckDBConnection> {
    await this.slots.acquire();
    const idle = this.idle.pop();
    if (idle) return idle;
    try {
      return await this.instance.connect();
    } catch (err) {
      this.slots.release();
      throw err;
    }
  }

  release(conn: DuckDBConnection, healthy: boolean): void {
    if (healthy) this.idle.push(conn);
    else conn.closeSync();
    this.slots.release();
  }

  closeAll(): void {
    for (const c of this.idle.splice(0)) c.closeSync();
  }
}

const ADMIN = "admin";

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

export class SqlEngine {
  /** DDL runs one statement at a time on the engine's own connection. */
  private readonly adminQueue = new KeyedLock();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly pool: ConnectionPool,
    private readonly opts: EngineOptions,
    private readonly admin: DuckDBConnection,
  ) {}

  static async open(opts: EngineOptions): Promise<SqlEngine> {
    // Settings that fail as create options are applied with SET, in this order: directories before
    // external access is switched off, limits, then the lock so callers cannot undo any of it.
    const instance = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
    const admin = await instance.connect();
    const dirs = opts.allowedDirs.map((d) => `'${d.replace(/'/g, "''")}'`).join(", ");
    await admin.run(`SET allowed_directories=[${dirs}]`);
    await admin.run("SET enable_external_access=false");
    await admin.run(`SET threads=${opts.threads}`);
    await admin.run(`SET memory_limit='${opts.memoryLimit}'`);
    await admin.run("SET max_temp_directory_size='0B'");
    // Dataset files are immutable (content-addressed keys), so their footers can be cached.
    await admin.run("SET parquet_metadata_cache=true");
    await admin.run("SET lock_configuration=true");
    return new SqlEngine(instance, new ConnectionPool(instance, opts.maxConcurrent), opts, admin);
  }

  /** Runs catalog DDL (views) one statement at a time on the engine's own connection. */
  ddl(sql: string): Promise<void> {
    return this.adminQueue.run(ADMIN, async () => {
      await this.admin.run(sql);
    });
  }

  /** Runs one read-only statement for a caller; other modules call this in-process. */
  async query(sql: string, params: SqlParams = [], options: QueryOptions = {}): Promise<QueryResult> {
    const started = performance.now();
    const maxRows = Math.min(options.maxRows ?? this.opts.maxRows, this.opts.maxRows);
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
    const conn = await this.pool.acquire();
    let timedOut = false;
    let repeat: ReturnType<typeof setInterval> | undefined;
    // An interrupt only reaches a statement that is executing; one still waiting for a worker
    // thread would miss it, so keep interrupting until the call returns.
    const timer = setTimeout(() => {
      timedOut = true;
      conn.interrupt();
      repeat = setInterval(() => conn.interrupt(), 50);
    }, timeoutMs);
    const checkTime = () => {
      if (timedOut) throw new Timeout(`the statement ran longer than ${timeoutMs} ms and was interrupted`, { timeout_ms: timeoutMs });
    };
    try {
      const extracted = await conn.extractStatements(sql);
      checkTime();
      if (extracted.count !== 1) throw new BadRequest(`expected exactly one SQL statement, got ${extracted.count}`);
      const prepared = await extracted.prepare(0);
      try {
        if (!isReadOnly(prepared.statementType)) throw refused(statementTypeName(prepared.statementType));
        if (prepared.statementType === StatementType.EXPLAIN) await this.assertExplainsSelect(conn, sql);
        bindParams(prepared, params);
        checkTime();
        const reader = await prepared.streamAndReadUntil(maxRows + 1);
        checkTime();
        const columns = reader.columnNames().map((name, i) => ({ name, type: reader.columnType(i).toString() }));
        const all = reader.getRows();
        const truncated = all.length > maxRows || !reader.done;
        const rows = all.slice(0, maxRows).map((row) => row.map(toJsonValue));
        return { columns, rows, row_count: rows.length, truncated, ms: Math.round((performance.now() - started) * 100) / 100 };
      } finally {
        prepared.destroySync();
      }
    } catch (err) {
      checkTime();
      throw this.clientError(err);
    } finally {
      clearTimeout(timer);
      clearInterval(repeat);
      this.pool.release(conn, !timedOut);
    }
  }

  private async assertExplainsSelect(conn: DuckDBConnection, sql: string): Promise<void> {
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

  /** DuckDB's message for the caller, without this machine's paths; DuckDB's own error is the cause, for the log. */
  private clientError(err: unknown): Error {
    if (err instanceof LakehouseError) return err;
    let message = err instanceof Error ? err.message : String(err);
    for (const dir of this.opts.allowedDirs) message = message.split(dir).join("");
    // Other absolute paths DuckDB mentions (its home directory, say) are this machine's business.
    message = message.replace(/(["'])\/[^"'\n]*\1/g, "$1<path>$1");
    message = message.split("\n\n")[0]!.trim();
    return new BadRequest(message, undefined, { cause: err });
  }

  async close(): Promise<void> {
    // Queued behind every DDL statement still pending, so none runs on a closed connection.
    await this.adminQueue.run(ADMIN, async () => {});
    this.pool.closeAll();
    this.admin.closeSync();
    this.instance.closeSync();
  }
}
