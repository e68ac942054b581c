// The ingest module: a spool directory, the converting DuckDB instance and the upload operation.
import { join, resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import { openWorkDir } from "../lib/work-dir.ts";
import type { Module, ModuleContext } from "../module.ts";
import type { DatasetWriterPort } from "../ports.ts";
import type { IngestConfig } from "./config.ts";
import { Converter } from "./convert.ts";
import { type IngestCatalog, Ingestor } from "./ingest.ts";
import { ingestOperations } from "./operations.ts";

export type { IngestOptions, IngestResult } from "./ingest.ts";

/** The module's config: its section plus the spool directory's base, resolved by app.ts (spoolRootFor). */
export type IngestSection = IngestConfig & { spool_root: string };

export interface IngestModule extends Module {
  readonly ingestor: Ingestor;
  /** DatasetWriterPort: other modules write datasets through the same path as an upload. */
  readonly writer: DatasetWriterPort;
}

export interface IngestPorts {
  catalog: IngestCatalog;
  /** The SQL module's hook: seeds its Parquet cache with a just-stored object's local copy. */
  sql?: { cacheLocalCopy(key: string, path: string): Promise<void> };
}

/**
 * Where uploads are spooled: ingest.temp_dir, else <storage.fs.root>/spool/ingest — local disk
 * beside the data (also with the s3 backend, like the vector logs), never a per-pid name in /tmp
 * that only a process of the same pid would ever clean.
 */
export function spoolRootFor(config: Config): string {
  return config.ingest.temp_dir ? resolve(config.ingest.temp_dir) : join(resolve(config.storage.fs.root), "spool", "ingest");
}

export async function open(ctx: ModuleContext<IngestSection>, ports: IngestPorts): Promise<IngestModule> {
  const { config, log } = ctx;
  // This instance's own directory; what crashed instances left under the root goes now.
  const spool = await openWorkDir(config.spool_root);
  if (spool.leftoversRemoved > 0) log.info("removed ingest spools left by a stopped process", { count: spool.leftoversRemoved });
  const converter = new Converter(
    spool.path,
    { threads: config.threads, memoryLimit: config.memory_limit, concurrency: config.max_concurrent, inlineMaxBytes: config.inline_max_bytes },
    log,
  );
  const sql = ports.sql;
  const ingestor = new Ingestor({
    store: ctx.store,
    catalog: ports.catalog,
    converter,
    spoolDir: spool.path,
    maxBytes: config.max_ingest_bytes,
    log,
    events: ctx.events,
    onStored: sql && ((key, path) => sql.cacheLocalCopy(key, path)),
  });
  ctx.ops.register(...ingestOperations(ingestor));
  const writer: DatasetWriterPort = {
    writeNdjson: (name, ndjson, opts) => {
      const body = ndjson instanceof Uint8Array ? new Blob([ndjson]).stream() : ndjson;
      const csv = { header: true, delimiter: ",", nulls: [""] };
      return ingestor.ingest(name, { body, contentType: "application/x-ndjson" }, { ...opts, format: "ndjson", csv });
    },
  };
  return {
    name: "ingest",
    ingestor,
    writer,
    health: () => ({ status: "ok" }),
    close: async () => {
      converter.close();
      await spool.close();
    },
  };
}
