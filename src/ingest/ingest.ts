// One ingest: spool the upload, convert it, store the Parquet under a content-addressed key, then
// commit the dataset's next manifest. Any failure before the commit leaves the catalog and the
// store as they were; temp files are always removed.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { diskFull, isDiskFull } from "../lib/disk-full.ts";
import { join } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import type { DataObject, Manifest } from "../catalog/manifest.ts";
import { assertDatasetName } from "../catalog/names.ts";
import { BadRequest, UnsupportedMediaType } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../log.ts";
import type { StreamIn } from "../ops/operation.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Converter, CsvOptions } from "./convert.ts";
import { scanNdjsonDepth } from "./ndjson-scan.ts";
import { spoolUpload, type UploadFormat } from "./upload.ts";

export type IngestMode = "replace" | "append";

export interface IngestOptions {
  mode: IngestMode;
  /** Overrides what the content type or file name says. */
  format?: UploadFormat;
  csv: CsvOptions;
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
}

/** Identifies an upload together with the options that shape its rows. */
function sourceId(uploadSha256: string, format: UploadFormat, csv: CsvOptions): string {
  const shape = format === "csv" ? JSON.stringify([format, csv.header, csv.delimiter, csv.nulls]) : JSON.stringify([format]);
  return createHash("sha256").update(uploadSha256).update("\n").update(shape).digest("hex");
}

/** The object an identical earlier ingest produced, if the live dataset already holds it. */
function findUnchanged(live: Manifest | undefined, mode: IngestMode, source: string): DataObject | undefined {
  if (!live) return undefined;
  if (mode === "replace") return live.objects.length === 1 && live.objects[0]!.source_sha256 === source ? live.objects[0] : undefined;
  return live.objects.find((o) => o.source_sha256 === source);
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
    const work = await mkdtemp(join(this.spoolDir, "ingest-"));
    try {
      const uploadPath = join(work, "upload");
      const upload = await spoolUpload(input, uploadPath, this.maxBytes);
      if (upload.bytes === 0) throw new BadRequest("the upload is empty");
      const format = opts.format ?? upload.declared;
      if (!format) throw new UnsupportedMediaType("cannot tell the upload's format: send a content type, a file name with an extension, or ?format=");
      const source = sourceId(upload.sha256, format, opts.csv);
      const finish = (m: Manifest, obj: DataObject, result: IngestResult["result"]): IngestResult => ({
        dataset_id: m.dataset_id,
        name,
        rows: obj.rows,
        columns: m.fields.length,
        fingerprint: m.fingerprint,
        key: obj.key,
        bytes: obj.bytes,
        ms: Math.round(performance.now() - started),
        result,
      });

      const early = findUnchanged(this.catalog.get(name), opts.mode, source);
      if (early) return finish(this.catalog.get(name)!, early, "unchanged");

      if (format === "ndjson") {
        // DuckDB's JSON reader recurses: a deep enough line kills the conversion process.
        const deep = await scanNdjsonDepth(uploadPath);
        if (deep) throw new BadRequest(`the NDJSON upload could not be read: ${deep.message}`, { line: deep.line });
      }
      const parquetPath = join(work, "data.parquet");
      const converted = await this.converter.convert(uploadPath, parquetPath, format, opts.csv);
      if (converted.fields.length === 0) throw new BadRequest("the upload has no columns");
      const key = `${LAYOUT.datasets}${name}/${await sha256File(parquetPath)}.parquet`;
      const bytes = (await stat(parquetPath)).size;
      const obj: DataObject = { key, rows: converted.rows, bytes, source_sha256: source };

      // The catalog re-plans under the dataset's lock (another ingest may have landed meanwhile),
      // checks the schema, and only then has the Parquet stored; a commit that does not happen
      // deletes it again.
      const done = await this.catalog.commit(name, (live) => {
        const same = findUnchanged(live, opts.mode, source);
        if (same) return { unchanged: finish(live!, same, "unchanged") };
        const fresh = !live?.objects.some((o) => o.key === key);
        return {
          fields: converted.fields,
          objects: opts.mode === "append" && live ? [...live.objects.filter((o) => o.key !== key), obj] : [obj],
          op: opts.mode,
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
      return finish(done.manifest, obj, !done.previous ? "created" : opts.mode === "append" ? "appended" : "replaced");
    } finally {
      await rm(work, { recursive: true, force: true }).catch((err) => this.log.warn("could not remove an ingest spool", { error: String(err) }));
    }
  }
}
