// The SQL module: sandboxed DuckDB worker processes holding one view per dataset, kept in step with the catalog
// (src/sql/service.ts); its operation, POST /v1/sql, goes into the registry.
import { join, resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Module, ModuleContext } from "../module.ts";
import type { SqlViewPort } from "../ports.ts";
import type { SqlConfig } from "./config.ts";
import type { QueryOptions, QueryResult, SqlParams } from "./engine.ts";
import { sqlOperations } from "./operations.ts";
import { type CatalogView, SqlService } from "./service.ts";

export type { QueryOptions, QueryResult, SqlParams } from "./engine.ts";
export type { CatalogView } from "./service.ts";

/** The module's config: its section plus the Parquet cache's base, resolved by app.ts (cacheRootFor). */
export type SqlSection = SqlConfig & { cache_root: string };

/**
 * Where the s3 backend's Parquet cache lives: sql.cache_dir, else <storage.fs.root>/cache/sql —
 * local disk beside the data, like the ingest spools and vector logs, never a per-pid name in /tmp
 * that only a process of the same pid would ever clean.
 */
export function cacheRootFor(config: Config): string {
  return config.sql.cache_dir ? resolve(config.sql.cache_dir) : join(resolve(config.storage.fs.root), "cache", "sql");
}

export interface SqlModule extends Module {
  readonly service: SqlService;
  /** In-process SQL for other modules: the same checks and limits as POST /v1/sql. */
  query(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<QueryResult>;
  /** s3 backend: seeds the Parquet cache with a just-stored object's local copy (no-op on fs). */
  cacheLocalCopy(key: string, path: string): Promise<void>;
  /** Views over files other modules write themselves (pathway_traces, observer_events). */
  readonly views: SqlViewPort;
}

export async function open(ctx: ModuleContext<SqlSection>, ports: { catalog: CatalogView }): Promise<SqlModule> {
  const service = await SqlService.open(ctx.config, ctx.config.cache_root, ctx.store, ports.catalog, ctx.log, ctx.events);
  ctx.ops.register(...sqlOperations(service));
  return {
    name: "sql",
    service,
    query: (sql, params, opts) => service.query(sql, params, opts),
    cacheLocalCopy: (key, path) => service.cacheLocalCopy(key, path),
    views: service.derived,
    health: () => service.health(),
    close: () => service.close(),
  };
}
