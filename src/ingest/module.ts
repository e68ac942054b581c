// The ingest module: a spool directory, the converting DuckDB instance and the upload route.
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import type { ApiSpec } from "../http/openapi.ts";
import type { Logger } from "../log.ts";
import type { Module } from "../module.ts";
import type { SqlModule } from "../sql/module.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { IngestConfig } from "./config.ts";
import { Converter } from "./convert.ts";
import { Ingestor } from "./ingest.ts";
import { ingestRoutes } from "./routes.ts";

export interface IngestModule extends Module {
  readonly ingestor: Ingestor;
}

export async function openIngest(
  config: IngestConfig,
  store: ObjectStore,
  catalog: Catalog,
  log: Logger,
  api: ApiSpec,
  jsonLimit: number,
  sql?: Pick<SqlModule, "cacheLocalCopy">,
): Promise<IngestModule> {
  const spool = resolve(join(config.temp_dir || tmpdir(), `lakehouse-ingest-${process.pid}`));
  await rm(spool, { recursive: true, force: true });
  await mkdir(spool, { recursive: true });
  const converter = new Converter(spool, { threads: config.threads, memoryLimit: config.memory_limit, concurrency: config.max_concurrent }, log);
  const ingestor = new Ingestor(store, catalog, converter, spool, config.max_ingest_bytes, log, sql && ((key, path) => sql.cacheLocalCopy(key, path)));
  return {
    name: "ingest",
    ingestor,
    router: ingestRoutes(ingestor, api, jsonLimit),
    health: () => ({ status: "ok" }),
    close: async () => {
      converter.close();
      await rm(spool, { recursive: true, force: true });
    },
  };
}
