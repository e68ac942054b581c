// The DuckDB side of a conversion, run in a conversion process (convert-worker.ts, one upload;
// convert-warm-worker.ts, many small ones): a sandboxed instance that may touch only the spool
// directory converts an upload to Parquet and describes it. When the dataset exists the upload is
// read with its column types (typed-read.ts); schema=evolve widens a column a value does not fit.
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { readFileSync } from "node:fs";
import type { Field } from "../catalog/schema.ts";
import { quoteLiteral } from "../lib/sql-quote.ts";
import { findCsvLine, findNdjsonKey, findNdjsonLine } from "./locate.ts";
import { joinTypes } from "./type-lattice.ts";
import { type CastFailure, namesReader, naturalReader, parseCastError, type UploadColumn, typedSelect } from "./typed-read.ts";
import type { UploadFormat } from "./upload.ts";

/**
 * Smaller than DuckDB's default (122,880): the writer buffers a row group per thread, and with long
 * text columns that buffer dominates peak memory (measured ≈990 → ≈700 MiB on the 500K staffing
 * CSV at the same speed).
 */
const ROW_GROUP_ROWS = 32_768;

export interface CsvOptions {
  header: boolean;
  delimiter: string;
  /** Field values read as NULL. */
  nulls: string[];
}

/** The live dataset an upload is read against. */
export interface ConvertTarget {
  fields: Field[];
  /** schema=evolve: new columns are added, a column a value does not fit is widened. */
  evolve: boolean;
  /** Columns the upload lacks are NULL (append) or dropped (replace); only under evolve. */
  keepMissing: boolean;
}

export interface ConvertJob {
  input: string;
  output: string;
  format: UploadFormat;
  csv: CsvOptions;
  spoolDir: string;
  threads: number;
  memoryLimit: string;
  /** Absent: a new dataset, every type inferred. */
  target?: ConvertTarget;
}

interface Rss {
  peak_rss_bytes: number;
  /** The process's RSS after the job: the warm worker is recycled past a bound. */
  rss_bytes?: number;
}

export type ConvertOutcome =
  | ({ ok: true; fields: Field[]; rows: number; widened?: { name: string; from: string; to: string }[] } & Rss)
  | ({ ok: false; kind?: "read"; message: string } & Rss)
  | ({ ok: false; kind: "cast"; message: string; failure: CastFailure & { type: string } } & Rss)
  | ({ ok: false; kind: "schema"; message: string; added: { name: string; type: string }[]; missing: string[] } & Rss);

function rss(): Rss {
  const status = readFileSync("/proc/self/status", "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { peak_rss_bytes: kb("VmHWM"), rss_bytes: kb("VmRSS") };
}

async function describe(c: DuckDBConnection, parquet: string): Promise<{ fields: Field[]; rows: number }> {
  const file = quoteLiteral(parquet);
  const cols = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${file})`)).getRowsJS();
  const nulls = (await c.runAndReadAll(`SELECT path_in_schema, sum(stats_null_count)::BIGINT FROM parquet_metadata(${file}) GROUP BY ALL`)).getRowsJS();
  const nullCount = new Map(nulls.map(([path, n]) => [String(path), n === null ? null : Number(n)]));
  const rows = (await c.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${file})`)).getRowsJS();
  const fields = cols.map(([name, type]) => {
    const n = nullCount.get(String(name));
    // Nested columns have no single statistic; unknown counts as nullable.
    return { name: String(name), type: String(type), nullable: n === undefined || n === null || n > 0 };
  });
  return { fields, rows: Number(rows[0]?.[0] ?? 0) };
}

async function columnsOf(c: DuckDBConnection, reader: string): Promise<UploadColumn[]> {
  return (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${reader}`)).getRowsJS().map(([name, type]) => ({ name: String(name), type: String(type) }));
}

/** A sandboxed instance for conversions: the same settings, in the order DuckDB accepts them (engine notes). */
export async function openSandboxed(spoolDir: string, threads: number, memoryLimit: string): Promise<{ c: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const c = await instance.connect();
  try {
    await c.run(`SET allowed_directories=[${quoteLiteral(`${spoolDir}/`)}]`);
    await c.run(`SET temp_directory=${quoteLiteral(`${spoolDir}/duckdb-tmp`)}`);
    await c.run("SET enable_external_access=false");
    await c.run(`SET threads=${threads}`);
    await c.run(`SET memory_limit=${quoteLiteral(memoryLimit)}`);
    await c.run("SET lock_configuration=true");
  } catch (err) {
    c.closeSync();
    instance.closeSync();
    throw err;
  }
  return {
    c,
    close: () => {
      c.closeSync();
      instance.closeSync();
    },
  };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

const copyTo = (select: string, output: string) =>
  `COPY (${select}) TO ${quoteLiteral(output)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`;

/** One conversion on an open sandboxed connection. */
export async function convertOn(c: DuckDBConnection, job: ConvertJob): Promise<ConvertOutcome> {
  if (!job.target) {
    try {
      await c.run(copyTo(`SELECT * FROM ${naturalReader(job.input, job.format, job.csv)}`, job.output));
    } catch (err) {
      return { ok: false, kind: "read", message: message(err), ...rss() };
    }
    return { ok: true, ...(await describe(c, job.output)), ...rss() };
  }
  try {
    return await convertTyped(c, job, job.target);
  } catch (err) {
    return { ok: false, kind: "read", message: message(err), ...rss() };
  }
}

async function convertTyped(c: DuckDBConnection, job: ConvertJob, target: ConvertTarget): Promise<ConvertOutcome> {
  const { input, format, csv } = job;
  // CSV: the header only (cheap); NDJSON: every key with its inferred type (a key missing from the
  // read_json `columns` list would be dropped silently); Parquet: its own columns and types.
  const upload = await columnsOf(c, format === "csv" ? namesReader(input, format, csv) : naturalReader(input, format, csv));
  if (format === "csv") for (const col of upload) delete col.type;
  let inferred: Map<string, string> | null = format === "csv" ? null : new Map(upload.map((u) => [u.name, u.type!]));
  const inferredTypes = async () => {
    inferred ??= new Map((await columnsOf(c, naturalReader(input, format, csv))).map((u) => [u.name, u.type!]));
    return inferred;
  };

  const known = new Set(target.fields.map((f) => f.name));
  const names = new Set(upload.map((u) => u.name));
  const added = upload.filter((u) => !known.has(u.name)).map((u) => u.name);
  // An NDJSON record says nothing of a key it leaves out: under strict that key is NULL, as JSON
  // writers that omit nulls mean it. A CSV or Parquet upload without a column lacks it.
  const absentIsNull = format === "ndjson" && !target.evolve;
  const missing = absentIsNull ? [] : target.fields.filter((f) => !names.has(f.name)).map((f) => f.name);
  const keepMissing = target.keepMissing || absentIsNull;
  if (!target.evolve && (added.length > 0 || missing.length > 0)) {
    const types = added.length > 0 ? await inferredTypes() : new Map<string, string>();
    return {
      ok: false,
      kind: "schema",
      message: "the upload's columns differ from the dataset's",
      added: added.map((name) => ({ name, type: types.get(name) ?? "VARCHAR" })),
      missing,
      ...rss(),
    };
  }

  const want = new Map(target.fields.filter((f) => names.has(f.name)).map((f) => [f.name, f.type]));
  const widened: { name: string; from: string; to: string }[] = [];
  // Each pass either succeeds, fails for good, or widens one more column; VARCHAR always fits.
  for (let pass = 0; pass <= want.size; pass++) {
    const select = typedSelect({ path: input, format, csv, target: target.fields, upload, want, keepMissing });
    try {
      await c.run(copyTo(select, job.output));
      const described = await describe(c, job.output);
      return { ok: true, ...described, ...(widened.length > 0 ? { widened } : {}), ...rss() };
    } catch (err) {
      const raw = message(err);
      const failure = parseCastError(raw);
      if (!failure) return { ok: false, kind: "read", message: raw, ...rss() };
      if (!failure.column && format === "ndjson") {
        const found = await findNdjsonKey(input, failure.value, [...want.keys()]);
        if (found) {
          failure.column = found.key;
          failure.line = found.line;
        } else delete failure.line;
      }
      const from = want.get(failure.column);
      if (from === undefined) return { ok: false, kind: "read", message: raw, ...rss() };
      if (!target.evolve || from === "VARCHAR") {
        if (failure.line === undefined && failure.row === undefined) {
          const line = await locate(job, upload, failure);
          if (line !== null) failure.line = line;
        }
        return { ok: false, kind: "cast", message: raw, failure: { ...failure, type: from }, ...rss() };
      }
      const natural = (await inferredTypes()).get(failure.column) ?? "VARCHAR";
      let to = joinTypes(from, natural);
      if (to === from) to = "VARCHAR";
      want.set(failure.column, to);
      const first = widened.find((w) => w.name === failure.column);
      if (first) first.to = to;
      else widened.push({ name: failure.column, from, to });
    }
  }
  return { ok: false, kind: "read", message: "the upload's types could not be settled", ...rss() };
}

/** The line of a value our exact-cast check refused (DuckDB named only the column and value). */
function locate(job: ConvertJob, upload: UploadColumn[], f: CastFailure): Promise<number | null> {
  if (job.format === "ndjson") return findNdjsonLine(job.input, f.column, f.value);
  if (job.format !== "csv") return Promise.resolve(null);
  const index = upload.findIndex((u) => u.name === f.column);
  return index < 0 ? Promise.resolve(null) : findCsvLine(job.input, job.csv.delimiter, index, f.value, job.csv.header);
}

/** One conversion in a fresh sandboxed instance (the per-upload process). */
export async function convertWithDuckDB(job: ConvertJob): Promise<ConvertOutcome> {
  const db = await openSandboxed(job.spoolDir, job.threads, job.memoryLimit);
  try {
    return await convertOn(db.c, job);
  } finally {
    db.close();
  }
}
