// Opens the vector indexes (snapshots from the object store, logs from local disk) as a module.
import { join, resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import type { ApiSpec } from "../http/openapi.ts";
import type { Logger } from "../log.ts";
import type { Module } from "../module.ts";
import type { ObjectStore } from "../storage/store.ts";
import { vectorRoutes } from "./routes.ts";
import { VectorIndexes, type VectorService } from "./service.ts";

export interface VectorModule extends Module {
  readonly service: VectorService;
}

export function walRootFor(config: Config): string {
  return config.vector.wal_dir ? resolve(config.vector.wal_dir) : join(resolve(config.storage.fs.root), "wal", "vectors");
}

export async function openVector(config: Config, store: ObjectStore, log: Logger, api: ApiSpec): Promise<VectorModule> {
  const service = await VectorIndexes.open(store, config.vector, walRootFor(config), log);
  return {
    name: "vector",
    service,
    router: vectorRoutes(service, api, config.vector.max_request_bytes),
    health: () => {
      const unavailable = service.unavailable();
      return unavailable.length > 0 ? { status: "degraded", detail: { unavailable_indexes: unavailable } } : { status: "ok" };
    },
    close: () => service.close(),
  };
}
