// The SQL service: the sandboxed engine, the views kept in step with the catalog and, on the s3
// backend, the local Parquet cache the views read through.
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import { BadRequest } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { SqlConfig } from "./config.ts";
import { type QueryOptions, type QueryResult, SqlEngine, type SqlParams } from "./engine.ts";
import { ParquetCache } from "./parquet-cache.ts";
import { ViewSync } from "./views-sync.ts";

/** What the SQL module needs of the catalog: the live datasets (word of each commit comes as an event). */
export type CatalogView = Pick<Catalog, "list" | "get">;

export class SqlService {
  private constructor(
    private readonly engine: SqlEngine,
    private readonly views: ViewSync,
    private readonly catalog: CatalogView,
    private readonly cache: ParquetCache | null,
  ) {}

  static async open(config: SqlConfig, store: ObjectStore, catalog: CatalogView, log: Logger, events: EventBus): Promise<SqlService> {
    let cache: ParquetCache | null = null;
    let root: string;
    if (store.localPath) {
      root = dirname(store.localPath(`${LAYOUT.datasets}x`));
    } else {
      const dir = resolve(config.cache_dir || join(tmpdir(), `lakehouse-sql-cache-${process.pid}`));
      cache = await ParquetCache.open(store, dir, config.cache_max_bytes, log);
      root = dirname(cache.pathFor(`${LAYOUT.datasets}x`));
    }
    const engine = await SqlEngine.open({
      allowedDirs: [`${root}/`],
      threads: config.threads,
      memoryLimit: config.memory_limit,
      timeoutMs: config.timeout_ms,
      maxRows: config.max_rows,
      maxConcurrent: config.max_concurrent,
    });

    if (!process.env.UV_THREADPOOL_SIZE) {
      // DuckDB's async calls share Bun's native worker pool (one thread per core by default).
      log.warn("UV_THREADPOOL_SIZE is not set: two long SQL statements can delay every other DuckDB call; start with UV_THREADPOOL_SIZE=8 or more");
    }

    const views = new ViewSync(engine, (key) => (cache ? cache.ensure(key) : store.localPath!(key)), log);
    for (const m of catalog.list()) await views.apply(m);
    // The catalog publishes each commit under the dataset's lock and waits for its listeners, so
    // the writer's next query sees the new view.
    events.on("catalog.committed", async ({ name, deleted }) => {
      const live = deleted ? undefined : catalog.get(name);
      await (live ? views.apply(live) : views.drop(name));
    });
    return new SqlService(engine, views, catalog, cache);
  }

  /** One read-only statement under the sandbox and limits; the same checks as POST /v1/sql. */
  async query(sql: string, params: SqlParams = [], opts: QueryOptions = {}): Promise<QueryResult> {
    try {
      return await this.engine.query(sql, params, opts);
    } catch (err) {
      // A cache file was evicted: fetch the missing files again, then retry once. The cache must
      // hold at least what one query reads.
      const cache = this.cache;
      if (cache && err instanceof BadRequest && /No files found|IO Error/.test(err.message)) {
        const missing = this.catalog.list().filter((m) => m.objects.some((o) => !cache.has(o.key)));
        for (const m of missing) await this.views.apply(m);
        return this.engine.query(sql, params, opts);
      }
      throw err;
    }
  }

  /** s3 backend: seeds the Parquet cache with a just-stored object's local copy (no-op on fs). */
  async cacheLocalCopy(key: string, path: string): Promise<void> {
    if (this.cache && key.startsWith(LAYOUT.datasets)) await this.cache.adopt(key, path);
  }

  health(): ModuleHealth {
    const detail: Record<string, unknown> = {};
    if (this.cache) detail.cache_bytes = this.cache.bytes;
    if (this.views.failedCount > 0) return { status: "degraded", detail: { ...detail, views_failed: this.views.failedCount } };
    return Object.keys(detail).length ? { status: "ok", detail } : { status: "ok" };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
