// The ingest module: a spool directory, the converting DuckDB instance and the upload operation.
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Module, ModuleContext } from "../module.ts";
import type { IngestConfig } from "./config.ts";
import { Converter } from "./convert.ts";
import { type IngestCatalog, Ingestor } from "./ingest.ts";
import { ingestOperations } from "./operations.ts";

export type { IngestOptions, IngestResult } from "./ingest.ts";

export interface IngestModule extends Module {
  readonly ingestor: Ingestor;
}

export interface IngestPorts {
  catalog: IngestCatalog;
  /** The SQL module's hook: seeds its Parquet cache with a just-stored object's local copy. */
  sql?: { cacheLocalCopy(key: string, path: string): Promise<void> };
}

export async function open(ctx: ModuleContext<IngestConfig>, ports: IngestPorts): Promise<IngestModule> {
  const { config, log } = ctx;
  const spool = resolve(join(config.temp_dir || tmpdir(), `lakehouse-ingest-${process.pid}`));
  await rm(spool, { recursive: true, force: true });
  await mkdir(spool, { recursive: true });
  const converter = new Converter(spool, { threads: config.threads, memoryLimit: config.memory_limit, concurrency: config.max_concurrent }, log);
  const sql = ports.sql;
  const ingestor = new Ingestor({
    store: ctx.store,
    catalog: ports.catalog,
    converter,
    spoolDir: spool,
    maxBytes: config.max_ingest_bytes,
    log,
    events: ctx.events,
    onStored: sql && ((key, path) => sql.cacheLocalCopy(key, path)),
  });
  ctx.ops.register(...ingestOperations(ingestor));
  return {
    name: "ingest",
    ingestor,
    health: () => ({ status: "ok" }),
    close: async () => {
      converter.close();
      await rm(spool, { recursive: true, force: true });
    },
  };
}
