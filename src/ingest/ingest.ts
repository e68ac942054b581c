// One ingest: spool the upload, convert it, store the Parquet under a content-addressed key, then
// commit the dataset's next manifest. Any failure before the commit leaves the catalog and the
// store as they were; temp files are always removed.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Catalog } from "../catalog/catalog.ts";
import type { DataObject, Manifest } from "../catalog/manifest.ts";
import { assertDatasetName } from "../catalog/names.ts";
import { BadRequest, UnsupportedMediaType } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Converter, CsvOptions } from "./convert.ts";
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
export function sourceId(uploadSha256: string, format: UploadFormat, csv: CsvOptions): string {
  const shape = format === "csv" ? JSON.stringify([format, csv.header, csv.delimiter, csv.nulls]) : JSON.stringify([format]);
  return createHash("sha256").update(uploadSha256).update("\n").update(shape).digest("hex");
}

/** The object an identical earlier ingest produced, if the live dataset already holds it. */
export function findUnchanged(live: Manifest | undefined, mode: IngestMode, source: string): DataObject | undefined {
  if (!live) return undefined;
  if (mode === "replace") return live.objects.length === 1 && live.objects[0]!.source_sha256 === source ? live.objects[0] : undefined;
  return live.objects.find((o) => o.source_sha256 === source);
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

export class Ingestor {
  constructor(
    private readonly store: ObjectStore,
    private readonly catalog: Catalog,
    private readonly converter: Converter,
    private readonly spoolDir: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
    /** Told about each stored Parquet while its local copy still exists (the SQL cache uses it). */
    private readonly onStored: (key: string, path: string) => Promise<void> = async () => {},
  ) {}

  async ingest(name: string, req: Request, opts: IngestOptions): Promise<IngestResult> {
    const started = performance.now();
    assertDatasetName(name);
    const work = await mkdtemp(join(this.spoolDir, "ingest-"));
    try {
      const uploadPath = join(work, "upload");
      const upload = await spoolUpload(req, uploadPath, this.maxBytes);
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

      const parquetPath = join(work, "data.parquet");
      const converted = await this.converter.convert(uploadPath, parquetPath, format, opts.csv);
      if (converted.fields.length === 0) throw new BadRequest("the upload has no columns");
      const key = `datasets/${name}/${await sha256File(parquetPath)}.parquet`;
      const bytes = (await stat(parquetPath)).size;
      const obj: DataObject = { key, rows: converted.rows, bytes, source_sha256: source };

      return await this.catalog.withLock(name, async () => {
        const live = this.catalog.get(name);
        const same = findUnchanged(live, opts.mode, source);
        if (same) return finish(live!, same, "unchanged");
        this.catalog.assertSameSchema(name, converted.fields);
        const alreadyStored = live?.objects.some((o) => o.key === key) ?? false;
        if (!alreadyStored) {
          await this.store.put(key, Bun.file(parquetPath).stream(), { contentType: "application/vnd.apache.parquet" });
          await this.onStored(key, parquetPath);
        }
        const objects = opts.mode === "append" && live ? [...live.objects.filter((o) => o.key !== key), obj] : [obj];
        try {
          const m = await this.catalog.commitLocked(name, converted.fields, objects, opts.mode);
          return finish(m, obj, !live ? "created" : opts.mode === "append" ? "appended" : "replaced");
        } catch (err) {
          if (!alreadyStored) await this.store.delete(key).catch(() => {});
          throw err;
        }
      });
    } finally {
      await rm(work, { recursive: true, force: true }).catch((err) => this.log.warn("could not remove an ingest spool", { error: String(err) }));
    }
  }
}
