// SQL worker processes, each running one statement at a time, so a worker's memory is its one
// statement's memory: a watchdog samples every worker's resident set and kills a worker past
// sql.max_statement_rss, or the largest statement once all of them pass sql.max_total_rss
// (src/sql/watchdog.ts). The server process never holds a statement's working memory. Workers
// start on demand up to sql.max_concurrent with one spare kept warm, hold every dataset view
// (replayed into each new worker), and are replaced when they die.
import { Timeout, Unavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type ExitReason, SqlWorker } from "./worker-client.ts";
import { overCaps, type Sample } from "./watchdog.ts";
import type { WorkerOptions } from "./worker-protocol.ts";

/**
 * Watchdog period. `SELECT length(range(0, 2000000000))` grew a worker by ≈350 MB/s here, so a
 * worker passes its cap by about 20 MB at most before it is killed; reading /proc/<pid>/status
 * costs ≈20 µs a worker.
 */
const WATCH_EVERY_MS = 50;
/** A worker idle this long is retired (one stays warm). */
const IDLE_RETIRE_MS = 30_000;
/**
 * A worker still holding more than this share of sql.max_statement_rss above its size when it
 * started (≈90 MiB) after a statement is replaced, so the next statement it would run is charged
 * for its own memory, give or take this much. (Measured: DuckDB gives its memory back after a
 * statement; workers sat at ≈100 MiB after 275 benchmark queries.)
 */
const RECYCLE_SHARE = 0.25;
/** After a worker failed to start twice in a row, the next attempt waits this long, doubling up to SPAWN_RETRY_MAX_MS. */
const SPAWN_RETRY_MS = 1000;
const SPAWN_RETRY_MAX_MS = 30_000;

export interface PoolOptions {
  size: number;
  worker: WorkerOptions;
  maxStatementRss: number;
  maxTotalRss: number;
  log: Logger;
  /** A view that failed while it was replayed into a new worker (its files are gone, say). */
  onReplayFailure(name: string, message: string): void;
}

interface Waiter {
  resolve(w: SqlWorker): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface PoolStats {
  workers: number;
  /** Workers that have opened their sandbox and replayed the views (idle or busy). */
  ready: number;
  busy: number;
  started: number;
  killed_statement_rss: number;
  killed_total_rss: number;
  killed_timeout: number;
  crashed: number;
}

export class WorkerPool {
  /** Starting, idle and busy workers. */
  private readonly all = new Set<SqlWorker>();
  /** Workers that hold the views (replay sent): DDL is broadcast to these. */
  private readonly serving = new Set<SqlWorker>();
  private readonly idle: SqlWorker[] = [];
  private readonly busy = new Set<SqlWorker>();
  private readonly waiters: Waiter[] = [];
  /** View DDL by dataset, in the order a new worker replays it. */
  private readonly views = new Map<string, string>();
  private readonly watchdog: ReturnType<typeof setInterval>;
  private spawnBlockedUntil = 0;
  private spawnFailures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSpawnError: string | null = null;
  private closed = false;
  private readonly counts = { started: 0, killed_statement_rss: 0, killed_total_rss: 0, killed_timeout: 0, crashed: 0 };

  private constructor(private readonly opts: PoolOptions) {
    this.watchdog = setInterval(() => this.watch(), WATCH_EVERY_MS);
    this.watchdog.unref();
  }

  /**
   * Starts the first worker without waiting for it (≈150 ms): the server serves everything else
   * meanwhile, and a worker that cannot start makes SQL answer 503 and health say why, rather
   * than stopping the server.
   */
  static open(opts: PoolOptions): WorkerPool {
    const pool = new WorkerPool(opts);
    pool.ensureCapacity();
    return pool;
  }

  private spawn(): SqlWorker {
    const w = new SqlWorker(this.opts.worker, this.opts.log, (gone, reason) => this.onGone(gone, reason));
    this.all.add(w);
    this.counts.started++;
    w.ready.then(
      () => this.replay(w),
      (err: Error) => {
        if (this.closed || w.gone?.kind === "retired") return;
        // It will never serve: out of the pool now, not when its exit is noticed.
        this.all.delete(w);
        w.kill({ kind: "retired" });
        this.lastSpawnError = err.message;
        // The first failure may be a fluke (killed while starting): retried at once; then back off.
        const failures = this.spawnFailures++;
        const wait = failures === 0 ? 0 : Math.min(SPAWN_RETRY_MS * 2 ** (failures - 1), SPAWN_RETRY_MAX_MS);
        this.spawnBlockedUntil = Date.now() + wait;
        this.opts.log.error("a SQL worker failed to start", { error: err.message, retry_in_ms: wait });
        if (wait === 0) return this.ensureCapacity();
        // Nothing can serve the callers waiting: they hear it now rather than at their timeout.
        if (this.all.size === 0) for (const waiter of this.waiters.splice(0)) this.failWaiter(waiter, this.unavailable());
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = undefined;
          this.ensureCapacity();
        }, wait);
      },
    );
    return w;
  }

  private async replay(w: SqlWorker): Promise<void> {
    if (w.gone) return;
    this.serving.add(w);
    // Taken now and sent now: DDL broadcast later reaches this worker after it, in order.
    const names = [...this.views.keys()];
    try {
      const failures = await w.ddl([...this.views.values()]);
      for (const f of failures) this.opts.onReplayFailure(names[f.statement]!, f.message);
    } catch {
      return; // it died; onGone replaces it
    }
    w.startRss = w.rss() ?? 0;
    this.lastSpawnError = null;
    this.spawnFailures = 0;
    this.makeAvailable(w);
  }

  private makeAvailable(w: SqlWorker): void {
    if (w.gone) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      this.busy.add(w);
      waiter.resolve(w);
      this.ensureCapacity();
      return;
    }
    w.idleSince = Date.now();
    this.idle.push(w);
  }

  /** Enough workers for every statement running or waiting, plus one spare, up to the pool size. */
  private ensureCapacity(): void {
    if (this.closed || Date.now() < this.spawnBlockedUntil) return;
    const wanted = Math.min(this.opts.size, this.busy.size + this.waiters.length + 1);
    while (this.all.size < wanted) this.spawn();
  }

  private unavailable(): Unavailable {
    return new Unavailable("no SQL worker can start; try again shortly", { reason: this.lastSpawnError ?? "starting" }, { retryAfter: 1 });
  }

  private failWaiter(waiter: Waiter, err: Error): void {
    clearTimeout(waiter.timer);
    waiter.reject(err);
  }

  /** A worker for one statement, waiting until `deadline` (performance.now() time) for one to be free. */
  acquire(deadline: number, timeoutMs: number): Promise<SqlWorker> {
    if (this.closed) return Promise.reject(new Unavailable("the SQL service is shutting down", undefined, { retryAfter: 1 }));
    const w = this.idle.pop();
    if (w) {
      this.busy.add(w);
      this.ensureCapacity();
      return Promise.resolve(w);
    }
    if (this.all.size === 0 && Date.now() < this.spawnBlockedUntil) return Promise.reject(this.unavailable());
    return new Promise<SqlWorker>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            const why = this.busy.size >= this.opts.size ? "all sql.max_concurrent workers were busy" : "none had started yet";
            reject(new Timeout(`the statement waited ${timeoutMs} ms for a free SQL worker (${why})`, { timeout_ms: timeoutMs }));
          },
          Math.max(0, deadline - performance.now()),
        ),
      };
      this.waiters.push(waiter);
      this.ensureCapacity();
    });
  }

  /** Gives a worker back after its statement; one that kept too much memory is replaced. */
  release(w: SqlWorker): void {
    this.busy.delete(w);
    if (w.gone) return;
    const rss = w.rss();
    if (rss !== null && rss - w.startRss > this.opts.maxStatementRss * RECYCLE_SHARE) {
      this.retire(w);
      this.ensureCapacity();
      return;
    }
    this.makeAvailable(w);
  }

  kill(w: SqlWorker, reason: ExitReason): void {
    w.kill(reason);
  }

  private retire(w: SqlWorker): void {
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    w.kill({ kind: "retired" });
  }

  private onGone(w: SqlWorker, reason: ExitReason): void {
    this.all.delete(w);
    const started = this.serving.delete(w);
    this.busy.delete(w);
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    if (reason.kind === "crashed") this.counts.crashed++;
    else if (reason.kind !== "retired") this.counts[`killed_${reason.kind}`]++;
    if (reason.kind === "statement_rss" || reason.kind === "total_rss") this.opts.log.warn("SQL worker killed at its memory cap", { ...reason });
    if (reason.kind === "timeout") this.opts.log.warn("SQL worker killed: its statement ignored the interrupt", {});
    // One that died before it could serve failed to start: its `ready` handler backs off first.
    if (started || reason.kind !== "crashed") this.ensureCapacity();
  }

  /** The watchdog: memory caps, then idle workers to retire. */
  private watch(): void {
    if (this.busy.size > 0) {
      const samples: Sample<SqlWorker>[] = [];
      for (const w of this.all) {
        const rss = w.rss();
        if (rss !== null) samples.push({ worker: w, rss, busy: this.busy.has(w) });
      }
      for (const { worker, reason } of overCaps(samples, { statement: this.opts.maxStatementRss, total: this.opts.maxTotalRss })) worker.kill(reason);
    }
    const now = Date.now();
    for (const w of [...this.idle]) if (this.idle.length > 1 && now - w.idleSince > IDLE_RETIRE_MS) this.retire(w);
  }

  /** Creates or replaces a view in every worker (and in every worker started later). */
  async setView(name: string, sql: string): Promise<void> {
    const previous = this.views.get(name);
    this.views.set(name, sql);
    try {
      await this.broadcast(sql);
    } catch (err) {
      if (previous === undefined) this.views.delete(name);
      else this.views.set(name, previous);
      throw err;
    }
  }

  async dropView(name: string, sql: string): Promise<void> {
    this.views.delete(name);
    await this.broadcast(sql);
  }

  private async broadcast(sql: string): Promise<void> {
    const results = await Promise.all(
      [...this.serving].map((w) =>
        w.ddl([sql]).then(
          (failures) => failures[0]?.message,
          () => undefined, // it died: its replacement replays the views
        ),
      ),
    );
    const failed = results.find((m) => m !== undefined);
    if (failed !== undefined) throw new Error(failed);
  }

  stats(): PoolStats {
    return { workers: this.all.size, ready: this.idle.length + this.busy.size, busy: this.busy.size, ...this.counts };
  }

  /** Whether workers fail to start (health). */
  get failing(): string | null {
    return this.all.size === 0 || this.serving.size === 0 ? this.lastSpawnError : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.retryTimer);
    for (const waiter of this.waiters.splice(0)) this.failWaiter(waiter, new Unavailable("the SQL service is shutting down", undefined, { retryAfter: 1 }));
    const all = [...this.all];
    for (const w of all) w.kill({ kind: "retired" });
    await Promise.all(all.map((w) => w.exited));
  }
}
