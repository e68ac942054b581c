// Converts a spooled upload to Parquet (Snappy) with DuckDB's readers and writer: bounded memory,
// and types inferred over the whole file (sample_size=-1), so a leading-zero code on row 400,000
// still keeps its column a string. Each conversion runs in its own process: it does not wait
// behind SQL statements for the server's native worker threads, its memory is returned when it
// ends, and a crash inside DuckDB fails one upload instead of the server.
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { BadRequest } from "../errors.ts";
import type { Field } from "../catalog/schema.ts";
import type { Logger } from "../log.ts";
import { Semaphore } from "../lib/semaphore.ts";
import { CsvScanner } from "./csv-scan.ts";
import type { ConvertJob, ConvertOutcome, CsvOptions } from "./duckdb-convert.ts";
import type { UploadFormat } from "./upload.ts";

export type { CsvOptions } from "./duckdb-convert.ts";

const WORKER = join(import.meta.dir, "convert-worker.ts");

export interface Converted {
  fields: Field[];
  rows: number;
}

export interface ConverterOptions {
  threads: number;
  memoryLimit: string;
  concurrency: number;
}

export class Converter {
  private readonly gate: Semaphore;
  private readonly running = new Set<{ kill(): void }>();

  constructor(
    private readonly spoolDir: string,
    private readonly opts: ConverterOptions,
    private readonly log: Logger,
  ) {
    this.gate = new Semaphore(opts.concurrency);
  }

  /** Writes `input` as Parquet to `output`; BadRequest (naming the line where it can) when unreadable. */
  convert(input: string, output: string, format: UploadFormat, csv: CsvOptions): Promise<Converted> {
    return this.gate.run(async () => {
      const job: ConvertJob = { input, output, format, csv, spoolDir: this.spoolDir, threads: this.opts.threads, memoryLimit: this.opts.memoryLimit };
      const outcome = await this.run(job);
      this.log.info("ingest conversion", { format, ok: outcome.ok, peak_rss_bytes: outcome.peak_rss_bytes });
      if (!outcome.ok) throw await this.explain(outcome.message, input, format, csv);
      return { fields: outcome.fields, rows: outcome.rows };
    });
  }

  private async run(job: ConvertJob): Promise<ConvertOutcome> {
    // The worker needs no configuration, so it gets none of the server's environment (secrets).
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };
    const proc = Bun.spawn([process.execPath, WORKER, JSON.stringify(job)], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.running.add(proc);
    try {
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      const last = stdout.trim().split("\n").at(-1);
      if (code === 0 && last) return JSON.parse(last) as ConvertOutcome;
      this.log.error("ingest conversion process failed", { code, stderr: stderr.slice(-2000) });
      throw new Error(`the conversion process exited with code ${code}`);
    } finally {
      this.running.delete(proc);
    }
  }

  private async explain(raw: string, input: string, format: UploadFormat, csv: CsvOptions): Promise<Error> {
    // DuckDB's own words, spool paths and all, stay with the error for the log (it failed in the
    // conversion process, so only its message crossed over); the caller gets them scrubbed.
    const cause = { cause: new Error(raw) };
    if (format === "csv") {
      const problem = await scanCsv(input, csv.delimiter);
      if (problem) return new BadRequest(`the CSV is malformed: ${problem.message}`, { line: problem.line }, cause);
    }
    const message = raw.split(input).join("upload").split(this.spoolDir).join("").split("\n")[0]!.trim();
    const line = /line (\d+)/i.exec(message)?.[1];
    return new BadRequest(
      `the ${format === "csv" ? "CSV" : format === "ndjson" ? "NDJSON" : "Parquet"} upload could not be read: ${message}`,
      line ? { line: Number(line) } : undefined,
      cause,
    );
  }

  /** Stops conversions still running (shutdown). */
  close(): void {
    for (const proc of this.running) proc.kill();
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
