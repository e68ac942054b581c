// One ingest: spool the upload, convert it (read with the dataset's types when it exists), store
// the Parquet under a content-addressed key, then commit the dataset's next manifest. Any failure before the commit leaves the catalog and the
// store as they were; temp files are always removed.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { diskFull, isDiskFull } from "../lib/disk-full.ts";
import { join } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import type { DataObject, Manifest } from "../catalog/manifest.ts";
import { assertDatasetName } from "../catalog/names.ts";
import { fingerprint, type SchemaDiff } from "../catalog/schema.ts";
import { BadRequest, Conflict, UnsupportedMediaType } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../log.ts";
import type { StreamIn } from "../ops/operation.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import { ColumnsDiffer, type Converter, type CsvOptions } from "./convert.ts";
import { columnsConflict, existsConflict, findUnchanged, type IngestMode, nextFields, type SchemaPolicy, schemaChange, sourceId } from "./modes.ts";
import { scanNdjsonDepth } from "./ndjson-scan.ts";
import { spoolUpload, type UploadFormat } from "./upload.ts";

export type { IngestMode, SchemaPolicy } from "./modes.ts";

export interface IngestOptions {
  /** Absent: create only (an existing dataset is 409). */
  mode?: IngestMode;
  /** strict (default): the live columns; evolve: add, fill, drop and widen columns. */
  schema?: SchemaPolicy;
  /** Overrides what the content type or file name says. */
  format?: UploadFormat;
  csv: CsvOptions;
  /** Who asks, recorded in the version (src/ops/identity.ts actorOf). */
  actor?: string;
}

export interface IngestResult {
  dataset_id: string;
  name: string;
  /** Rows of this upload (the dataset's total is in the catalog). */
  rows: number;
  columns: number;
  fingerprint: string;
  key: string;
  bytes: number;
  ms: number;
  result: "created" | "replaced" | "appended" | "unchanged";
  /** The dataset's version after this ingest (the live one when unchanged). */
  version: number;
  /** Present when schema=evolve changed the dataset's columns. */
  schema_change?: SchemaDiff;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** What ingest needs of the catalog: the live manifest and the commit protocol. */
export type IngestCatalog = Pick<Catalog, "get" | "commit">;

export interface IngestorDeps {
  store: ObjectStore;
  catalog: IngestCatalog;
  converter: Converter;
  /** Where uploads are spooled; each ingest works in its own directory below it. */
  spoolDir: string;
  maxBytes: number;
  log: Logger;
  /** Hears ingest.completed after each ingest. */
  events: Pick<EventBus, "publish">;
  /** Told about each stored Parquet while its local copy still exists (the SQL cache uses it). */
  onStored?: (key: string, path: string) => Promise<void>;
}

export class Ingestor {
  private readonly store: ObjectStore;
  private readonly catalog: IngestCatalog;
  private readonly converter: Converter;
  private readonly spoolDir: string;
  private readonly maxBytes: number;
  private readonly log: Logger;
  private readonly events: Pick<EventBus, "publish">;
  private readonly onStored: (key: string, path: string) => Promise<void>;

  constructor(deps: IngestorDeps) {
    this.store = deps.store;
    this.catalog = deps.catalog;
    this.converter = deps.converter;
    this.spoolDir = deps.spoolDir;
    this.maxBytes = deps.maxBytes;
    this.log = deps.log;
    this.events = deps.events;
    this.onStored = deps.onStored ?? (async () => {});
  }

  /** Loads the upload in `input` into dataset `name`; the body is streamed to disk, never held. */
  async ingest(name: string, input: StreamIn, opts: IngestOptions): Promise<IngestResult> {
    const result = await this.run(name, input, opts).catch((err) => {
      throw isDiskFull(err) ? diskFull("the ingest spool", err) : err;
    });
    const { rows, bytes, ms } = result;
    await this.events.publish("ingest.completed", { name, rows, bytes, ms, result: result.result });
    return result;
  }

  private async run(name: string, input: StreamIn, opts: IngestOptions): Promise<IngestResult> {
    const started = performance.now();
    assertDatasetName(name);
    const { mode } = opts;
    const evolve = opts.schema === "evolve";
    const work = await mkdtemp(join(this.spoolDir, "ingest-"));
    try {
      const uploadPath = join(work, "upload");
      const upload = await spoolUpload(input, uploadPath, this.maxBytes);
      if (upload.bytes === 0) throw new BadRequest("the upload is empty");
      const format = opts.format ?? upload.declared;
      if (!format) throw new UnsupportedMediaType("cannot tell the upload's format: send a content type, a file name with an extension, or ?format=");
      const source = sourceId(upload.sha256, format, opts.csv);
      const finish = (m: Manifest, obj: DataObject, result: IngestResult["result"], change?: SchemaDiff): IngestResult => ({
        dataset_id: m.dataset_id,
        name,
        rows: obj.rows,
        columns: m.fields.length,
        fingerprint: m.fingerprint,
        key: obj.key,
        bytes: obj.bytes,
        ms: Math.round(performance.now() - started),
        result,
        version: m.version,
        ...(change ? { schema_change: change } : {}),
      });

      const live = this.catalog.get(name);
      const early = findUnchanged(live, mode, source);
      if (early) return finish(live!, early, "unchanged");
      // Checked before converting anything; checked again under the lock at the commit.
      if (live && !mode) throw existsConflict(name, live);

      if (format === "ndjson") {
        // DuckDB's JSON reader recurses: a deep enough line kills the conversion process.
        const deep = await scanNdjsonDepth(uploadPath);
        if (deep) throw new BadRequest(`the NDJSON upload could not be read: ${deep.message}`, { line: deep.line });
      }
      const parquetPath = join(work, "data.parquet");
      // An existing dataset's upload is read with its column types (typed-read.ts).
      const target = live ? { fields: live.fields, evolve, keepMissing: mode === "append" } : undefined;
      const converted = await this.converter.convert(uploadPath, parquetPath, format, opts.csv, target).catch((err) => {
        throw err instanceof ColumnsDiffer && live ? columnsConflict(name, live, err.added, err.missing, mode) : err;
      });
      if (converted.fields.length === 0) throw new BadRequest("the upload has no columns");
      const key = `${LAYOUT.datasets}${name}/${await sha256File(parquetPath)}.parquet`;
      const bytes = (await stat(parquetPath)).size;
      const fields = nextFields(live, converted.fields, mode);
      const own = fingerprint(converted.fields);
      // The file is written in the new schema's order and types, so it needs no note of its own.
      const obj: DataObject = { key, rows: converted.rows, bytes, source_sha256: source, ...(own !== fingerprint(fields) ? { fingerprint: own } : {}) };

      // The catalog re-plans under the dataset's lock (another ingest may have landed meanwhile),
      // checks the schema, and only then has the Parquet stored; a commit that does not happen
      // deletes it again.
      const done = await this.catalog.commit(name, (now) => {
        const same = findUnchanged(now, mode, source);
        if (same) return { unchanged: finish(now!, same, "unchanged") };
        if (now && !mode) throw existsConflict(name, now);
        if (now?.fingerprint !== live?.fingerprint && now?.fingerprint !== fingerprint(fields)) {
          // The upload was read against another schema (or none) and does not match the new one.
          throw new Conflict(`dataset "${name}" changed while the upload was converting; send it again`, { dataset: name });
        }
        const changed = now !== undefined && fingerprint(fields) !== now.fingerprint;
        const fresh = !now?.objects.some((o) => o.key === key);
        return {
          fields,
          objects: mode === "append" && now ? [...now.objects.filter((o) => o.key !== key), obj] : [obj],
          op: changed ? "evolve" : (mode ?? "replace"),
          schemaChange: changed && evolve,
          actor: opts.actor,
          stage: fresh
            ? async () => {
                await this.store.put(key, Bun.file(parquetPath).stream(), { contentType: "application/vnd.apache.parquet" });
                await this.onStored(key, parquetPath);
              }
            : undefined,
          unstage: fresh ? () => this.store.delete(key).then(() => {}) : undefined,
        };
      });
      if (!done.changed) return done.unchanged;
      const result = !done.previous ? "created" : mode === "append" ? "appended" : "replaced";
      return finish(done.manifest, obj, result, schemaChange(done.previous, done.manifest.fields));
    } finally {
      await rm(work, { recursive: true, force: true }).catch((err) => this.log.warn("could not remove an ingest spool", { error: String(err) }));
    }
  }
}
