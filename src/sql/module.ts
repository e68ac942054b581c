// The SQL module: the sandboxed engine plus one view per dataset, kept in step with the catalog.
// On the s3 backend the views read Parquet through a local cache.
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import type { Manifest } from "../catalog/manifest.ts";
import { BadRequest } from "../errors.ts";
import type { ApiSpec } from "../http/openapi.ts";
import type { Logger } from "../log.ts";
import type { Module, ModuleHealth } from "../module.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { SqlConfig } from "./config.ts";
import { type QueryOptions, type QueryResult, SqlEngine, type SqlParams } from "./engine.ts";
import { ParquetCache } from "./parquet-cache.ts";
import { sqlRoutes } from "./routes.ts";
import { createViewSql, dropViewSql } from "./views.ts";

export const DATASETS_PREFIX = "datasets/";

export interface SqlModule extends Module {
  /** In-process SQL for other modules: the same checks and limits as POST /v1/sql. */
  query(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<QueryResult>;
  /** s3 backend: seeds the Parquet cache with a just-stored object's local copy (no-op on fs). */
  cacheLocalCopy(key: string, path: string): Promise<void>;
}

export async function openSql(
  config: SqlConfig,
  store: ObjectStore,
  catalog: Catalog,
  log: Logger,
  api: ApiSpec,
  jsonLimit: number,
): Promise<SqlModule> {
  let cache: ParquetCache | null = null;
  let root: string;
  if (store.localPath) {
    root = dirname(store.localPath(`${DATASETS_PREFIX}x`));
  } else {
    const dir = resolve(config.cache_dir || join(tmpdir(), `lakehouse-sql-cache-${process.pid}`));
    cache = await ParquetCache.open(store, dir, config.cache_max_bytes, log);
    root = dirname(cache.pathFor(`${DATASETS_PREFIX}x`));
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

  const failedViews = new Set<string>();

  const pathFor = (m: Manifest, key: string): Promise<string> | string => {
    if (!key.startsWith(`${DATASETS_PREFIX}${m.name}/`)) throw new Error(`dataset "${m.name}" references an object outside its prefix`);
    return cache ? cache.ensure(key) : store.localPath!(key);
  };

  const applyView = async (m: Manifest): Promise<void> => {
    try {
      const paths = await Promise.all(m.objects.map((o) => pathFor(m, o.key)));
      await engine.ddl(createViewSql(m.name, m.fields, paths));
      failedViews.delete(m.name);
    } catch (err) {
      failedViews.add(m.name);
      log.error("could not create the SQL view for a dataset", { dataset: m.name, error: String(err) });
    }
  };

  for (const m of catalog.list()) await applyView(m);
  catalog.onChange(async ({ name, dataset }) => {
    if (dataset) return applyView(dataset);
    failedViews.delete(name);
    await engine.ddl(dropViewSql(name));
  });

  const query = async (sql: string, params: SqlParams = [], opts: QueryOptions = {}): Promise<QueryResult> => {
    try {
      return await engine.query(sql, params, opts);
    } catch (err) {
      // A cache file was evicted: fetch the missing files again, then retry once. The cache must
      // hold at least what one query reads.
      if (cache && err instanceof BadRequest && /No files found|IO Error/.test(err.message)) {
        const missing = catalog.list().filter((m) => m.objects.some((o) => !cache!.has(o.key)));
        for (const m of missing) await applyView(m);
        return engine.query(sql, params, opts);
      }
      throw err;
    }
  };

  const health = (): ModuleHealth => {
    const detail: Record<string, unknown> = {};
    if (cache) detail.cache_bytes = cache.bytes;
    if (failedViews.size > 0) return { status: "degraded", detail: { ...detail, views_failed: failedViews.size } };
    return Object.keys(detail).length ? { status: "ok", detail } : { status: "ok" };
  };

  return {
    name: "sql",
    query,
    cacheLocalCopy: async (key, path) => {
      if (cache && key.startsWith(DATASETS_PREFIX)) await cache.adopt(key, path);
    },
    router: sqlRoutes(query, api, jsonLimit),
    health,
    close: () => engine.close(),
  };
}
