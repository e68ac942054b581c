// The SQL service: the engine (sandboxed worker processes), the views kept in step with the catalog and, on the s3
// backend, the local Parquet cache the views read through.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import { BadRequest, NotFound, Unavailable, ValidationFailed } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { openWorkDir, type WorkDir } from "../lib/work-dir.ts";
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { SqlConfig } from "./config.ts";
import { type ExportStarted, type QueryOptions, type QueryResult, SqlEngine, type SqlParams } from "./engine.ts";
import type { ExportFormat } from "./formats.ts";
import { DerivedViews } from "./derived-views.ts";
import { ParquetCache } from "./parquet-cache.ts";
import { MissingFile } from "./sql-errors.ts";
import { VersionViews } from "./time-travel.ts";
import { ViewSync } from "./views-sync.ts";

/** The folder under the cache base holding each instance's scratch directory (exports, derived views' files). */
export const SCRATCH = "work";

/** What the SQL module needs of the catalog: the live datasets (word of each commit comes as an event). */
export type CatalogView = Pick<Catalog, "list" | "get" | "version" | "deletion">;

export class SqlService {
  private constructor(
    private readonly engine: SqlEngine,
    private readonly views: ViewSync,
    private readonly catalog: CatalogView,
    private readonly cache: ParquetCache | null,
    /** The local directory holding `datasets/` objects, as DuckDB reads them. */
    private readonly datasetsDir: string,
    /** s3 backend: this instance's own directory the cache lives in, removed on close. */
    private readonly cacheDir: WorkDir | null,
    /** This instance's directory the SQL workers write Parquet exports in (each in its own folder), removed on close. */
    private readonly exportDir: WorkDir,
    /** sql.max_rows: the most rows a bounded answer may ask for. */
    private readonly maxRows: number,
    /** Views over files other modules write (pathway_traces, observer_events): the SqlViewPort. */
    readonly derived: DerivedViews,
  ) {}

  /**
   * `cacheRoot` (s3 backend only) is the base of the Parquet cache: this instance caches in its own
   * `<cacheRoot>/<pid>-<random>`, and opening it removes what stopped instances left there (a crash
   * never cleans up; src/lib/work-dir.ts). The fs backend needs no cache: DuckDB reads the store.
   */
  static async open(config: SqlConfig, cacheRoot: string, store: ObjectStore, catalog: CatalogView, log: Logger, events: EventBus): Promise<SqlService> {
    const cacheDir = store.localPath ? null : await openWorkDir(cacheRoot);
    if (cacheDir && cacheDir.leftoversRemoved > 0) log.info("removed Parquet caches left by a stopped process", { count: cacheDir.leftoversRemoved });
    // Beside the cache (local disk under the data root unless sql.cache_dir says otherwise); a crash's
    // leftovers are removed by the next instance that opens one there.
    const exportDir = await openWorkDir(join(cacheRoot, SCRATCH)).catch(async (err) => {
      await cacheDir?.close().catch(() => {});
      throw err;
    });
    try {
      return await SqlService.start(config, cacheDir, exportDir, store, catalog, log, events);
    } catch (err) {
      await cacheDir?.close().catch(() => {});
      await exportDir.close().catch(() => {});
      throw err;
    }
  }

  private static async start(
    config: SqlConfig,
    cacheDir: WorkDir | null,
    exportDir: WorkDir,
    store: ObjectStore,
    catalog: CatalogView,
    log: Logger,
    events: EventBus,
  ): Promise<SqlService> {
    let cache: ParquetCache | null = null;
    let root: string;
    if (cacheDir) {
      cache = await ParquetCache.open(store, cacheDir.path, config.cache_max_bytes, log);
      root = dirname(cache.pathFor(`${LAYOUT.datasets}x`));
    } else {
      root = dirname(store.localPath!(`${LAYOUT.datasets}x`));
    }
    let views: ViewSync | undefined;
    // Derived views' files live in this instance's scratch directory: rebuilt by their owners at
    // start, removed with it on close (and by the next start after a crash).
    const derivedDir = join(exportDir.path, "views");
    mkdirSync(derivedDir, { recursive: true, mode: 0o700 });
    const engine = await SqlEngine.open({
      allowedDirs: [`${root}/`, `${derivedDir}/`],
      threads: config.threads,
      memoryLimit: config.memory_limit,
      timeoutMs: config.timeout_ms,
      maxRows: config.max_rows,
      maxConcurrent: config.max_concurrent,
      maxStatementRss: config.max_statement_rss,
      maxTotalRss: config.max_total_rss,
      maxResponseBytes: config.max_response_bytes,
      maxExportBytes: config.max_export_bytes,
      exportTimeoutMs: config.export_timeout_ms,
      exportDir: exportDir.path,
      log,
      onReplayFailure: (name, message) => views?.markFailed(name, message),
    });
    views = new ViewSync(engine, (key) => (cache ? cache.ensure(key) : store.localPath!(key)), log);
    for (const m of catalog.list()) await views.apply(m);
    // The catalog publishes each commit under the dataset's lock and waits for its listeners, so
    // the writer's next query sees the new view, in every worker.
    const sync = views;
    events.on("catalog.committed", async ({ name, deleted }) => {
      const live = deleted ? undefined : catalog.get(name);
      await (live ? sync.apply(live) : sync.drop(name));
    });
    const derived = new DerivedViews(engine, derivedDir, (name) => catalog.list().some((m) => m.name.toLowerCase() === name));
    return new SqlService(engine, views, catalog, cache, root, cacheDir, exportDir, config.max_rows, derived);
  }

  /** Views of earlier dataset versions, made when a statement first names one ("workers@3"). */
  private timeTravel: VersionViews | undefined;

  /** Runs before every statement a caller sends, whatever it is run for (query, export). */
  private async beforeStatement(sql: string): Promise<void> {
    this.timeTravel ??= new VersionViews(this.catalog, this.views);
    await this.timeTravel.prepare(sql);
  }

  /** One read-only statement under the sandbox and limits; the same checks as POST /v1/sql. */
  async query(sql: string, params: SqlParams = [], opts: QueryOptions = {}): Promise<QueryResult> {
    if (opts.maxRows !== undefined && opts.maxRows > this.maxRows) {
      throw new ValidationFailed(`max_rows is over the server's cap sql.max_rows (${this.maxRows}); POST /v1/sql/export streams a whole result`, [
        { path: "max_rows", message: `at most ${this.maxRows} (sql.max_rows)` },
      ]);
    }
    await this.beforeStatement(sql);
    return this.withDatasetErrors(() => this.engine.query(sql, params, opts));
  }

  /**
   * Streams the whole result of one read-only statement (POST /v1/sql/export): the same checks as a
   * query, not capped by max_rows; capped by sql.max_export_bytes and sql.export_timeout_ms.
   */
  async export(sql: string, params: SqlParams, format: ExportFormat, signal?: AbortSignal): Promise<ExportStarted> {
    await this.beforeStatement(sql);
    return this.withDatasetErrors(() => this.engine.export(sql, params, format, signal));
  }

  private async withDatasetErrors<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      // A cache file was evicted: fetch the missing files again, then retry once. The cache must
      // hold at least what one query reads.
      const cache = this.cache;
      // A view replayed into a new worker while its file was evicted failed to build: the same cure.
      const viewless = err instanceof BadRequest && this.views.failedCount > 0 && /Table with name \w+ does not exist/.test(err.message);
      if (cache && (err instanceof MissingFile || viewless || (err instanceof BadRequest && /IO Error/.test(err.message)))) {
        const missing = this.catalog.list().filter((m) => m.objects.some((o) => !cache.has(o.key)));
        for (const m of missing) await this.views.apply(m);
        try {
          return await run();
        } catch (again) {
          throw this.datasetError(again);
        }
      }
      throw this.datasetError(err);
    }
  }

  /**
   * A file a live dataset references is gone from the store (a disk error, a hand-deleted file), or
   * the dataset's view could not be built from its files: not the caller's doing, so 503 naming the
   * dataset, and the module degraded at once. A path the caller made up is the caller's 400.
   */
  private datasetError(err: unknown): unknown {
    const viewless = err instanceof BadRequest ? /Table with name (\w+) does not exist/.exec(err.message)?.[1] : undefined;
    if (viewless && this.views.isFailed(viewless) && this.catalog.get(viewless)) {
      return new Unavailable(
        `dataset "${viewless}" cannot be read: its SQL view could not be built from its data files (see health)`,
        { dataset: viewless },
        { cause: err },
      );
    }
    const deleted = viewless ? this.catalog.deletion(viewless) : undefined;
    if (deleted) {
      return new NotFound(
        `dataset "${deleted.name}" was deleted (version ${deleted.version}, ${deleted.updated_at}); POST /v1/catalog/datasets/${deleted.name}/restore brings it back within retention`,
        { dataset: deleted.name, version: deleted.version },
        { cause: err },
      );
    }
    if (!(err instanceof MissingFile)) return err;
    const prefix = `${this.datasetsDir}/`;
    const key = err.path.startsWith(prefix) ? `${LAYOUT.datasets}${err.path.slice(prefix.length)}` : null;
    const name = key?.split("/")[1];
    const dataset = name ? this.catalog.get(name) : undefined;
    if (!dataset?.objects.some((o) => o.key === key)) return err;
    this.views.markMissing(dataset.name);
    return new Unavailable(
      `dataset "${dataset.name}" is missing data files in the store; it cannot be read until it is written again`,
      { dataset: dataset.name },
      { cause: err },
    );
  }

  /** s3 backend: seeds the Parquet cache with a just-stored object's local copy (no-op on fs). */
  async cacheLocalCopy(key: string, path: string): Promise<void> {
    if (this.cache && key.startsWith(LAYOUT.datasets)) await this.cache.adopt(key, path);
  }

  health(): ModuleHealth {
    const engine = this.engine.health();
    const detail: Record<string, unknown> = { ...engine.detail };
    if (this.cache) detail.cache_bytes = this.cache.bytes;
    let status = engine.status;
    if (this.views.failedCount > 0) {
      status = "degraded";
      detail.views_failed = this.views.failedCount;
    }
    const missing = this.views.missingData;
    if (missing.length > 0) {
      status = "degraded";
      detail.datasets_missing_data = missing;
    }
    return { status, detail };
  }

  async close(): Promise<void> {
    await this.engine.close();
    await this.cacheDir?.close();
    await this.exportDir.close();
  }
}
