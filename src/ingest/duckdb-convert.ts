// The DuckDB side of a conversion, run in its own process (convert-worker.ts): a sandboxed
// instance that may touch only the spool directory converts one upload to Parquet and describes it.
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { readFileSync } from "node:fs";
import type { Field } from "../catalog/schema.ts";
import { quoteLiteral } from "../lib/sql-quote.ts";
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

export interface ConvertJob {
  input: string;
  output: string;
  format: UploadFormat;
  csv: CsvOptions;
  spoolDir: string;
  threads: number;
  memoryLimit: string;
}

export type ConvertOutcome = { ok: true; fields: Field[]; rows: number; peak_rss_bytes: number } | { ok: false; message: string; peak_rss_bytes: number };

/** The DuckDB table expression reading an upload of this format. */
function readerSql(path: string, format: UploadFormat, csv: CsvOptions): string {
  const file = quoteLiteral(path);
  if (format === "parquet") return `read_parquet(${file})`;
  if (format === "ndjson") return `read_json(${file}, format='newline_delimited', sample_size=-1)`;
  const nulls = csv.nulls.map(quoteLiteral).join(", ");
  return (
    `read_csv(${file}, sample_size=-1, delim=${quoteLiteral(csv.delimiter)}, quote='"', escape='"', ` +
    `header=${csv.header}, strict_mode=true, comment='', skip=0, nullstr=[${nulls}], encoding='utf-8')`
  );
}

function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
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

export async function convertWithDuckDB(job: ConvertJob): Promise<ConvertOutcome> {
  const instance = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const c = await instance.connect();
  try {
    await c.run(`SET allowed_directories=[${quoteLiteral(`${job.spoolDir}/`)}]`);
    await c.run(`SET temp_directory=${quoteLiteral(`${job.spoolDir}/duckdb-tmp`)}`);
    await c.run("SET enable_external_access=false");
    await c.run(`SET threads=${job.threads}`);
    await c.run(`SET memory_limit=${quoteLiteral(job.memoryLimit)}`);
    await c.run("SET lock_configuration=true");
    try {
      await c.run(
        `COPY (SELECT * FROM ${readerSql(job.input, job.format, job.csv)}) TO ${quoteLiteral(job.output)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
      );
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err), peak_rss_bytes: peakRss() };
    }
    return { ok: true, ...(await describe(c, job.output)), peak_rss_bytes: peakRss() };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
