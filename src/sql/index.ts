// The SQL module: sandboxed DuckDB worker processes holding one view per dataset, kept in step with the catalog
// (src/sql/service.ts); its operation, POST /v1/sql, goes into the registry.
import type { Module, ModuleContext } from "../module.ts";
import type { SqlConfig } from "./config.ts";
import type { QueryOptions, QueryResult, SqlParams } from "./engine.ts";
import { sqlOperations } from "./operations.ts";
import { type CatalogView, SqlService } from "./service.ts";

export type { QueryOptions, QueryResult, SqlParams } from "./engine.ts";
export type { CatalogView } from "./service.ts";

export interface SqlModule extends Module {
  readonly service: SqlService;
  /** In-process SQL for other modules: the same checks and limits as POST /v1/sql. */
  query(sql: string, params?: SqlParams, opts?: QueryOptions): Promise<QueryResult>;
  /** s3 backend: seeds the Parquet cache with a just-stored object's local copy (no-op on fs). */
  cacheLocalCopy(key: string, path: string): Promise<void>;
}

export async function open(ctx: ModuleContext<SqlConfig>, ports: { catalog: CatalogView }): Promise<SqlModule> {
  const service = await SqlService.open(ctx.config, ctx.store, ports.catalog, ctx.log, ctx.events);
  ctx.ops.register(...sqlOperations(service));
  return {
    name: "sql",
    service,
    query: (sql, params, opts) => service.query(sql, params, opts),
    cacheLocalCopy: (key, path) => service.cacheLocalCopy(key, path),
    health: () => service.health(),
    close: () => service.close(),
  };
}
