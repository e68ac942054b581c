// The SQL engine the server talks to: statements run in sandboxed worker processes (one statement
// per worker at a time, src/sql/worker-pool.ts), each answered within its time limit: interrupted at
// the deadline, its worker killed if the interrupt is not honoured. Results come back as Arrow IPC
// and become the JSON answer here; an Accept representation (Arrow or CSV) comes back already
// encoded; an export streams through (src/sql/export-stream.ts).
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import type { SqlParams, StatementRequest } from "./execute.ts";
import type { ExportAnswer, ExportRequest } from "./export.ts";
import { ExportStream } from "./export-stream.ts";
import { EXPORT_FORMATS, type ExportFormat, type ExportType, withEncoded } from "./formats.ts";
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
  /** Encode the result as this representation (Arrow or CSV) in the worker instead of returning rows. */
  export?: ExportType;
  /** The caller gave up (a cancelled workflow step, a client gone): the statement is interrupted. */
  signal?: AbortSignal;
}

/** An export under way: its columns are known, its body streams. */
export interface ExportStarted {
  columns: Column[];
  contentType: string;
  body: ReadableStream<Uint8Array>;
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
  /** The deadline of a whole export (sql.export_timeout_ms). */
  exportTimeoutMs: number;
  /** Where each worker makes its directory for Parquet exports. */
  exportDir: string;
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
      worker: { allowedDirs: opts.allowedDirs, threads: opts.threads, memoryLimit: opts.memoryLimit, exportDir: opts.exportDir },
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
      maxRows: options.maxRows ?? this.opts.maxRows,
      maxBytes: options.export ? this.opts.maxExportBytes : this.opts.maxResponseBytes,
      format: options.export ?? "wire",
    };
    const ctx = this.errorContext(timeoutMs);
    const worker = await this.acquire(deadline, timeoutMs, ctx);
    const { id, answer } = worker.query(req);
    const disarm = this.armDeadline(worker, () => id, deadline, ctx);
    const stop = () => worker.interrupt(id);
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      const a = await answer;
      const ms = Math.round((performance.now() - started) * 100) / 100;
      const result: QueryResult = { columns: a.columns, rows: [], row_count: a.rowCount, truncated: a.truncated, ms };
      if (a.cutByBytes) result.message = this.cutMessage(options.export !== undefined);
      else if (a.truncated) result.message = this.rowsMessage(req.maxRows);
      if (options.export) return withEncoded(result, options.export, a.body);
      result.rows = a.rows ?? decodeWire(a.body).rows;
      return result;
    } catch (err) {
      throw statementError(err, ctx);
    } finally {
      disarm();
      options.signal?.removeEventListener("abort", stop);
      this.pool.release(worker);
    }
  }

  /**
   * At the deadline the statement is interrupted (and counted as timed out); if its worker still
   * has not answered KILL_GRACE_MS later, the worker is killed. Returns what disarms both.
   */
  private armDeadline(worker: Awaited<ReturnType<WorkerPool["acquire"]>>, idOf: () => number, deadline: number, ctx: ErrorContext): () => void {
    const left = Math.max(0, deadline - performance.now());
    const interrupt = setTimeout(() => {
      ctx.timedOut = true;
      worker.interrupt(idOf());
    }, left);
    const kill = setTimeout(() => this.pool.kill(worker, { kind: "timeout" }), left + KILL_GRACE_MS);
    return () => {
      clearTimeout(interrupt);
      clearTimeout(kill);
    };
  }

  /** A worker for one statement, waiting for one within its deadline; a failure is that statement's error. */
  private async acquire(deadline: number, timeoutMs: number, ctx: ErrorContext): Promise<Awaited<ReturnType<WorkerPool["acquire"]>>> {
    try {
      return await this.pool.acquire(deadline, timeoutMs);
    } catch (err) {
      throw statementError(err, ctx);
    }
  }

  private errorContext(timeoutMs: number): ErrorContext {
    return {
      timedOut: false,
      timeoutMs,
      memoryLimit: this.opts.memoryLimit,
      maxStatementRss: this.opts.maxStatementRss,
      maxTotalRss: this.opts.maxTotalRss,
      hiddenDirs: [...this.opts.allowedDirs, this.opts.exportDir],
    };
  }

  /**
   * Streams a whole result (POST /v1/sql/export) under sql.export_timeout_ms and sql.max_export_bytes.
   * Resolves once the statement has started producing (a failure before that is thrown, as for any
   * statement); the worker is held until the body ends, is cut, or the client goes away (`signal`).
   */
  async export(sql: string, params: SqlParams, format: ExportFormat, signal?: AbortSignal): Promise<ExportStarted> {
    const timeoutMs = this.opts.exportTimeoutMs;
    const deadline = performance.now() + timeoutMs;
    const ctx = this.errorContext(timeoutMs);
    const worker = await this.acquire(deadline, timeoutMs, ctx);
    const req: ExportRequest = { sql, params, format, maxBytes: this.opts.maxExportBytes };
    let id = 0;
    let clientGone = false;
    let streaming = false;
    const stop = () => {
      clientGone = true;
      worker.interrupt(id);
    };
    const stream = new ExportStream({ ack: () => worker.ack(id), cancel: stop });
    const started = worker.exportQuery(req, stream.listener);
    id = started.id;
    const disarm = this.armDeadline(worker, () => id, deadline, ctx);
    signal?.addEventListener("abort", stop, { once: true });
    const done = started.answer.then(
      (answer) => this.exportFailure(answer, ctx, clientGone),
      (err: unknown) => statementError(err, ctx),
    );
    void done.then((failure) => {
      disarm();
      signal?.removeEventListener("abort", stop);
      this.pool.release(worker);
      stream.finish(failure);
      if (!streaming || !failure) return;
      if (clientGone) this.opts.log.info("a SQL export's client went away; its statement was stopped", { format, bytes: stream.bytesSent });
      else this.opts.log.warn("a SQL export ended before its result did; its response was cut", { format, error: failure.message, bytes: stream.bytesSent });
    });
    const head = await stream.head;
    if (!head) {
      // Ended before its first piece: an ordinary error answer.
      const failure = await done;
      if (failure) throw failure;
    }
    streaming = true;
    return { columns: head?.columns ?? [], contentType: EXPORT_FORMATS[format], body: stream.body };
  }

  /** Why an export that reported its end did not deliver the whole result, or null when it did. */
  private exportFailure(a: ExportAnswer, ctx: ErrorContext, clientGone: boolean): Error | null {
    if (a.cutByBytes) return new Error(`the export passed sql.max_export_bytes (${mib(this.opts.maxExportBytes)}) and was cut`);
    if (a.cancelled) {
      if (ctx.timedOut) return new Error(`the export ran longer than sql.export_timeout_ms (${ctx.timeoutMs} ms) and was cut`);
      return new Error(clientGone ? "the client went away" : "the export was stopped");
    }
    return null;
  }

  private cutMessage(isExport: boolean): string {
    if (isExport)
      return `the answer was cut at sql.max_export_bytes (${mib(this.opts.maxExportBytes)}); POST /v1/sql/export streams the whole result (csv, ndjson, arrow or parquet)`;
    return (
      `the result was cut at sql.max_response_bytes (${mib(this.opts.maxResponseBytes)} of JSON); POST /v1/sql/export streams the whole result ` +
      `(csv, ndjson, arrow or parquet); Arrow (Accept: application/vnd.apache.arrow.stream) or CSV (Accept: text/csv) answers here may hold up to ` +
      `sql.max_export_bytes (${mib(this.opts.maxExportBytes)}) within max_rows`
    );
  }

  private rowsMessage(maxRows: number): string {
    return `the result has more than max_rows (${maxRows}) rows and was cut there; POST /v1/sql/export streams the whole result (csv, ndjson, arrow or parquet)`;
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
