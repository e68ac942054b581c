// The SQL engine the server talks to: statements run in sandboxed worker processes (one statement
// per worker at a time, src/sql/worker-pool.ts), each answered within its time limit: interrupted at
// the deadline, its worker killed if the interrupt is not honoured. Results come back as Arrow IPC
// and become the JSON answer here; an export (Arrow or CSV) comes back already encoded.
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import type { SqlParams, StatementRequest } from "./execute.ts";
import { type ExportType, withEncoded } from "./formats.ts";
import { type ErrorContext, statementError } from "./sql-errors.ts";
import type { JsonValue } from "./values.ts";
import { decodeWire } from "./wire.ts";
import { WorkerPool } from "./worker-pool.ts";

export type { SqlParam, SqlParams } from "./execute.ts";

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
  /** Why the result was cut short, when a byte cap cut it. */
  message?: string;
}

export interface QueryOptions {
  maxRows?: number;
  timeoutMs?: number;
  /** Encode the result as this export (Arrow or CSV) in the worker instead of returning rows. */
  export?: ExportType;
}

export interface EngineOptions {
  /** Directories DuckDB may read; nothing else on this machine is reachable from SQL. */
  allowedDirs: string[];
  threads: number;
  memoryLimit: string;
  timeoutMs: number;
  maxRows: number;
  maxConcurrent: number;
  maxStatementRss: number;
  maxTotalRss: number;
  maxResponseBytes: number;
  maxExportBytes: number;
  log: Logger;
  onReplayFailure(name: string, message: string): void;
}

/**
 * How long a statement may ignore its interrupt before its worker is killed. DuckDB honours an
 * interrupt in about 200 ms when it does at all (list building in `range()` does not), and the
 * answer must come by timeout_ms + 2 s.
 */
const KILL_GRACE_MS = 1000;

const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`;

export class SqlEngine {
  private constructor(
    private readonly pool: WorkerPool,
    private readonly opts: EngineOptions,
  ) {}

  static async open(opts: EngineOptions): Promise<SqlEngine> {
    const pool = WorkerPool.open({
      size: opts.maxConcurrent,
      worker: { allowedDirs: opts.allowedDirs, threads: opts.threads, memoryLimit: opts.memoryLimit },
      maxStatementRss: opts.maxStatementRss,
      maxTotalRss: opts.maxTotalRss,
      log: opts.log,
      onReplayFailure: opts.onReplayFailure,
    });
    return new SqlEngine(pool, opts);
  }

  /** Creates or replaces a dataset's view in every worker. */
  setView(name: string, sql: string): Promise<void> {
    return this.pool.setView(name, sql);
  }

  dropView(name: string, sql: string): Promise<void> {
    return this.pool.dropView(name, sql);
  }

  /** Runs one read-only statement for a caller; other modules call this in-process. */
  async query(sql: string, params: SqlParams = [], options: QueryOptions = {}): Promise<QueryResult> {
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
    const deadline = started + timeoutMs;
    const req: StatementRequest = {
      sql,
      params,
      maxRows: Math.min(options.maxRows ?? this.opts.maxRows, this.opts.maxRows),
      maxBytes: options.export ? this.opts.maxExportBytes : this.opts.maxResponseBytes,
      format: options.export ?? "wire",
    };
    const ctx: ErrorContext = {
      timedOut: false,
      timeoutMs,
      memoryLimit: this.opts.memoryLimit,
      maxStatementRss: this.opts.maxStatementRss,
      maxTotalRss: this.opts.maxTotalRss,
      hiddenDirs: this.opts.allowedDirs,
    };
    let worker: Awaited<ReturnType<WorkerPool["acquire"]>>;
    try {
      worker = await this.pool.acquire(deadline, timeoutMs);
    } catch (err) {
      throw statementError(err, ctx);
    }
    const { id, answer } = worker.query(req);
    const left = Math.max(0, deadline - performance.now());
    const interrupt = setTimeout(() => {
      ctx.timedOut = true;
      worker.interrupt(id);
    }, left);
    const kill = setTimeout(() => this.pool.kill(worker, { kind: "timeout" }), left + KILL_GRACE_MS);
    try {
      const a = await answer;
      const ms = Math.round((performance.now() - started) * 100) / 100;
      const result: QueryResult = { columns: a.columns, rows: [], row_count: a.rowCount, truncated: a.truncated, ms };
      if (a.cutByBytes) result.message = this.cutMessage(options.export !== undefined);
      if (options.export) return withEncoded(result, options.export, a.body);
      result.rows = decodeWire(a.body).rows;
      return result;
    } catch (err) {
      throw statementError(err, ctx);
    } finally {
      clearTimeout(interrupt);
      clearTimeout(kill);
      this.pool.release(worker);
    }
  }

  private cutMessage(isExport: boolean): string {
    if (isExport)
      return `the export was cut at sql.max_export_bytes (${mib(this.opts.maxExportBytes)}); select fewer rows or columns, or read it in parts with LIMIT and OFFSET`;
    return (
      `the result was cut at sql.max_response_bytes (${mib(this.opts.maxResponseBytes)} of JSON); export it as Arrow ` +
      `(Accept: application/vnd.apache.arrow.stream) or CSV (Accept: text/csv), which may hold up to sql.max_export_bytes (${mib(this.opts.maxExportBytes)}), ` +
      "or select fewer rows or columns"
    );
  }

  health(): ModuleHealth {
    const stats = this.pool.stats();
    const failing = this.pool.failing;
    return failing ? { status: "degraded", detail: { ...stats, workers_failing: failing } } : { status: "ok", detail: { ...stats } };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
