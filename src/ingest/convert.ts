// Converts a spooled upload to Parquet (Snappy) with DuckDB's readers and writer: bounded memory,
// and types inferred over the whole file (sample_size=-1), so a leading-zero code on row 400,000
// still keeps its column a string. The instance may touch only the spool directory.
import { createReadStream } from "node:fs";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { Field } from "../catalog/schema.ts";
import { BadRequest } from "../errors.ts";
import { Semaphore } from "../storage/limits.ts";
import { quoteLiteral } from "../sql/views.ts";
import { CsvScanner } from "./csv-scan.ts";
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

export interface Converted {
  fields: Field[];
  rows: number;
}

/** The DuckDB table expression reading an upload of this format. */
export function readerSql(path: string, format: UploadFormat, csv: CsvOptions): string {
  const file = quoteLiteral(path);
  if (format === "parquet") return `read_parquet(${file})`;
  if (format === "ndjson") return `read_json(${file}, format='newline_delimited', sample_size=-1)`;
  const nulls = csv.nulls.map(quoteLiteral).join(", ");
  return (
    `read_csv(${file}, sample_size=-1, delim=${quoteLiteral(csv.delimiter)}, quote='"', escape='"', ` +
    `header=${csv.header}, strict_mode=true, comment='', skip=0, nullstr=[${nulls}], encoding='utf-8')`
  );
}

export class Converter {
  private readonly gate: Semaphore;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly spoolDir: string,
    concurrency: number,
  ) {
    this.gate = new Semaphore(concurrency);
  }

  static async open(spoolDir: string, opts: { threads: number; memoryLimit: string; concurrency: number }): Promise<Converter> {
    const instance = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
    const c = await instance.connect();
    try {
      await c.run(`SET allowed_directories=[${quoteLiteral(`${spoolDir}/`)}]`);
      await c.run(`SET temp_directory=${quoteLiteral(`${spoolDir}/duckdb-tmp`)}`);
      await c.run("SET enable_external_access=false");
      await c.run(`SET threads=${opts.threads}`);
      await c.run(`SET memory_limit=${quoteLiteral(opts.memoryLimit)}`);
      await c.run("SET lock_configuration=true");
    } finally {
      c.closeSync();
    }
    return new Converter(instance, spoolDir, opts.concurrency);
  }

  /** Writes `input` as Parquet to `output`; BadRequest (naming the line where it can) when unreadable. */
  convert(input: string, output: string, format: UploadFormat, csv: CsvOptions): Promise<Converted> {
    return this.gate.run(async () => {
      const c = await this.instance.connect();
      try {
        try {
          await c.run(`COPY (SELECT * FROM ${readerSql(input, format, csv)}) TO ${quoteLiteral(output)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
        } catch (err) {
          throw await this.explain(err, input, format, csv);
        }
        return await this.describe(c, output);
      } finally {
        c.closeSync();
      }
    });
  }

  private async describe(c: DuckDBConnection, parquet: string): Promise<Converted> {
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

  private async explain(err: unknown, input: string, format: UploadFormat, csv: CsvOptions): Promise<Error> {
    const raw = err instanceof Error ? err.message : String(err);
    if (format === "csv") {
      const problem = await scanCsv(input, csv.delimiter);
      if (problem) return new BadRequest(`the CSV is malformed: ${problem.message}`, { line: problem.line });
    }
    const message = raw.split(input).join("upload").split(this.spoolDir).join("").split("\n")[0]!.trim();
    const line = /line (\d+)/i.exec(message)?.[1];
    return new BadRequest(`the ${format === "csv" ? "CSV" : format === "ndjson" ? "NDJSON" : "Parquet"} upload could not be read: ${message}`, line ? { line: Number(line) } : undefined);
  }

  close(): void {
    this.instance.closeSync();
  }
}

async function scanCsv(path: string, delimiter: string) {
  const scanner = new CsvScanner(delimiter.charCodeAt(0));
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    scanner.push(chunk as Buffer);
    if (scanner.found) break;
  }
  return scanner.found ?? scanner.finish();
}
