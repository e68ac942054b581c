// The SQL service: the engine (sandboxed worker processes), the views kept in step with the catalog and, on the s3
// backend, the local Parquet cache the views read through.
import { dirname } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import { BadRequest, Unavailable } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { openWorkDir, type WorkDir } from "../lib/work-dir.ts";
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { SqlConfig } from "./config.ts";
import { type QueryOptions, type QueryResult, SqlEngine, type SqlParams } from "./engine.ts";
import { ParquetCache } from "./parquet-cache.ts";
import { MissingFile } from "./sql-errors.ts";
import { ViewSync } from "./views-sync.ts";

/** What the SQL module needs of the catalog: the live datasets (word of each commit comes as an event). */
export type CatalogView = Pick<Catalog, "list" | "get">;

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
  ) {}

  /**
   * `cacheRoot` (s3 backend only) is the base of the Parquet cache: this instance caches in its own
   * `<cacheRoot>/<pid>-<random>`, and opening it removes what stopped instances left there (a crash
   * never cleans up; src/lib/work-dir.ts). The fs backend needs no cache: DuckDB reads the store.
   */
  static async open(config: SqlConfig, cacheRoot: string, store: ObjectStore, catalog: CatalogView, log: Logger, events: EventBus): Promise<SqlService> {
    const cacheDir = store.localPath ? null : await openWorkDir(cacheRoot);
    if (cacheDir && cacheDir.leftoversRemoved > 0) log.info("removed Parquet caches left by a stopped process", { count: cacheDir.leftoversRemoved });
    try {
      return await SqlService.start(config, cacheDir, store, catalog, log, events);
    } catch (err) {
      await cacheDir?.close().catch(() => {});
      throw err;
    }
  }

  private static async start(
    config: SqlConfig,
    cacheDir: WorkDir | null,
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
    const engine = await SqlEngine.open({
      allowedDirs: [`${root}/`],
      threads: config.threads,
      memoryLimit: config.memory_limit,
      timeoutMs: config.timeout_ms,
      maxRows: config.max_rows,
      maxConcurrent: config.max_concurrent,
      maxStatementRss: config.max_statement_rss,
      maxTotalRss: config.max_total_rss,
      maxResponseBytes: config.max_response_bytes,
      maxExportBytes: config.max_export_bytes,
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
    return new SqlService(engine, views, catalog, cache, root, cacheDir);
  }

  /** One read-only statement under the sandbox and limits; the same checks as POST /v1/sql. */
  async query(sql: string, params: SqlParams = [], opts: QueryOptions = {}): Promise<QueryResult> {
    try {
      return await this.engine.query(sql, params, opts);
    } catch (err) {
      // A cache file was evicted: fetch the missing files again, then retry once. The cache must
      // hold at least what one query reads.
      const cache = this.cache;
      if (cache && (err instanceof MissingFile || (err instanceof BadRequest && /IO Error/.test(err.message)))) {
        const missing = this.catalog.list().filter((m) => m.objects.some((o) => !cache.has(o.key)));
        for (const m of missing) await this.views.apply(m);
        try {
          return await this.engine.query(sql, params, opts);
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
  }
}
