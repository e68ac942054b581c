// The vector module: opens the indexes (snapshots from the object store, logs from local disk)
// and declares their operations. Other modules reach it through its port (vectorPort).
import { join, resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Module, ModuleContext } from "../module.ts";
import type { VectorConfig } from "./config.ts";
import { vectorOperations } from "./operations.ts";
import { VectorIndexes, type VectorService } from "./service.ts";

export type { VectorConfig } from "./config.ts";
export type { CreateIndexInput, IndexInfo, ItemView, VectorService } from "./service.ts";

/** The module's config: its section plus the directory of the write-ahead logs, resolved by app.ts (walRootFor). */
export type VectorSection = VectorConfig & { wal_root: string };

export interface VectorModule extends Module {
  readonly service: VectorService;
}

/** Where the logs live: vector.wal_dir, else <storage.fs.root>/wal/vectors (local disk, also with the s3 backend). */
export function walRootFor(config: Config): string {
  return config.vector.wal_dir ? resolve(config.vector.wal_dir) : join(resolve(config.storage.fs.root), "wal", "vectors");
}

export async function open(ctx: ModuleContext<VectorSection>): Promise<VectorModule> {
  const service = await VectorIndexes.open(ctx.store, ctx.config, ctx.config.wal_root, ctx.log, ctx.events, ctx.progress);
  ctx.ops.register(...vectorOperations(service, ctx.config.max_request_bytes));
  return {
    name: "vector",
    service,
    health: () => {
      const unavailable = service.unavailable();
      const skipped = service.skipped();
      if (unavailable.length === 0 && skipped.count === 0) return { status: "ok" };
      const detail: Record<string, unknown> = {};
      if (unavailable.length > 0) detail.unavailable_indexes = unavailable;
      if (skipped.count > 0) detail.skipped = skipped;
      return { status: "degraded", detail };
    },
    close: () => service.close(),
  };
}
