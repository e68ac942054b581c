// Converts a spooled upload to Parquet (Snappy) with DuckDB's readers and writer: bounded memory,
// and types inferred over the whole file (sample_size=-1), so a leading-zero code on row 400,000
// still keeps its column a string; or, for an existing dataset, the upload read with its column
// types (typed-read.ts). Conversions run outside the server process: they do not wait behind SQL
// statements for the server's native worker threads, and a crash inside DuckDB fails one upload
// instead of the server. An upload up to ingest.inline_max_bytes goes to the warm, reused
// conversion process (warm-worker.ts: no process start per ingest); a larger one gets its own
// process, whose memory is returned when it ends.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { BadRequest, type LakehouseError } from "../errors.ts";
import type { Field } from "../catalog/schema.ts";
import type { Logger } from "../log.ts";
import { diskFull, isDiskFull } from "../lib/disk-full.ts";
import { Semaphore } from "../lib/semaphore.ts";
import { workerCommand, workerEnv } from "../lib/worker-process.ts";
import { CsvScanner } from "./csv-scan.ts";
import type { ConvertJob, ConvertOutcome, ConvertTarget, CsvOptions } from "./duckdb-convert.ts";
import { cannotStart, processFailure } from "./process-failure.ts";
import { WarmWorker } from "./warm-worker.ts";
import type { UploadFormat } from "./upload.ts";

export type { ConvertTarget, CsvOptions } from "./duckdb-convert.ts";

export interface Converted {
  fields: Field[];
  rows: number;
  /** Columns schema=evolve widened because a value did not fit the dataset's type. */
  widened?: { name: string; from: string; to: string }[];
}

export interface ConverterOptions {
  threads: number;
  memoryLimit: string;
  concurrency: number;
  /** Uploads up to this size go to the warm process; 0 (the default) sends every one to its own. */
  inlineMaxBytes?: number;
  /** When the warm process is replaced (warm-worker.ts). */
  warmMaxJobs?: number;
  warmMaxRssBytes?: number;
}

/**
 * The upload's columns are not the dataset's and schema=strict: no conversion happened. ingest.ts
 * answers 409 with the diff against the live schema.
 */
export class ColumnsDiffer extends Error {
  constructor(
    readonly added: { name: string; type: string }[],
    readonly missing: string[],
  ) {
    super("the upload's columns differ from the dataset's");
  }
}

/** Longest value quoted back in an error message. */
const MAX_SHOWN_VALUE = 200;

/**
 * The warm process is replaced after this many jobs: a bound on anything a job could leave behind
 * in DuckDB's instance (its caches, allocator fragmentation) whatever the RSS says.
 */
const WARM_MAX_JOBS = 500;
/**
 * …or when its RSS after a job is past this. Idle with DuckDB loaded it holds ≈110 MiB (measured
 * here); a job on an 8 MiB upload peaks well under 300 MiB.
 */
const WARM_MAX_RSS_BYTES = 384 * 1024 * 1024;

export class Converter {
  private readonly gate: Semaphore;
  private readonly running = new Set<{ kill(): void }>();
  private closing = false;
  /** The reused process for small uploads; null when inlineMaxBytes is 0. */
  readonly warm: WarmWorker | null;

  constructor(
    private readonly spoolDir: string,
    private readonly opts: ConverterOptions,
    private readonly log: Logger,
  ) {
    this.gate = new Semaphore(opts.concurrency);
    this.warm =
      (opts.inlineMaxBytes ?? 0) > 0
        ? new WarmWorker(
            { spoolDir, threads: opts.threads, memoryLimit: opts.memoryLimit },
            { maxJobs: opts.warmMaxJobs ?? WARM_MAX_JOBS, maxRssBytes: opts.warmMaxRssBytes ?? WARM_MAX_RSS_BYTES },
            log,
          )
        : null;
  }

  /**
   * Writes `input` as Parquet to `output`, read with `target`'s types when given. BadRequest
   * (naming the line, column and value where it can) when unreadable; ColumnsDiffer under strict.
   */
  async convert(input: string, output: string, format: UploadFormat, csv: CsvOptions, target?: ConvertTarget): Promise<Converted> {
    const job: ConvertJob = { input, output, format, csv, spoolDir: this.spoolDir, threads: this.opts.threads, memoryLimit: this.opts.memoryLimit, target };
    // Small uploads do not queue behind a large conversion: the warm process has its own queue.
    const warm = this.warm && (await stat(input)).size <= (this.opts.inlineMaxBytes ?? 0) ? this.warm : null;
    const outcome = warm ? await warm.run(job) : await this.gate.run(() => this.run(job));
    this.log.info("ingest conversion", { format, warm: warm !== null, ok: outcome.ok, peak_rss_bytes: outcome.peak_rss_bytes });
    if (outcome.ok) return { fields: outcome.fields, rows: outcome.rows, ...(outcome.widened ? { widened: outcome.widened } : {}) };
    if (outcome.kind === "schema") throw new ColumnsDiffer(outcome.added, outcome.missing);
    if (outcome.kind === "cast") throw castError(outcome.failure, format, target?.evolve ?? false, outcome.message);
    throw await this.explain(outcome.message, input, format, csv);
  }

  private async run(job: ConvertJob): Promise<ConvertOutcome> {
    let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
    try {
      // The worker needs no configuration, so it gets none of the server's environment (secrets).
      proc = Bun.spawn(workerCommand("convert", JSON.stringify(job)), { env: workerEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    } catch (err) {
      throw cannotStart(err);
    }
    this.running.add(proc);
    try {
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      const outcome = code === 0 ? parseOutcome(stdout) : null;
      if (outcome) return outcome;
      const signal = proc.signalCode === null ? undefined : String(proc.signalCode);
      this.log.error("ingest conversion process failed", { code, signal, stderr: stderr.slice(-2000) });
      throw processFailure(signal, code, this.closing);
    } finally {
      this.running.delete(proc);
    }
  }

  private async explain(raw: string, input: string, format: UploadFormat, csv: CsvOptions): Promise<Error> {
    // DuckDB's own words, spool paths and all, stay with the error for the log (it failed in the
    // conversion process, so only its message crossed over); the caller gets them scrubbed.
    const cause = { cause: new Error(raw) };
    // Out of room for the Parquet: the host's state, not the upload's (and DuckDB's message names the spool).
    if (isDiskFull(raw)) return diskFull("the ingest spool", cause.cause);
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

  /** Stops conversions still running and the warm process (shutdown). */
  close(): void {
    this.closing = true;
    for (const proc of this.running) proc.kill();
    this.warm?.close();
  }
}

/** The worker's last stdout line, or null when it printed none that parses. */
function parseOutcome(stdout: string): ConvertOutcome | null {
  const last = stdout.trim().split("\n").at(-1);
  if (!last) return null;
  try {
    return JSON.parse(last) as ConvertOutcome;
  } catch {
    return null;
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

/** 400 for a value that does not fit its column: the line (or row), the column, the value, the type. */
function castError(
  f: { column: string; value: string; type: string; line?: number; row?: number },
  format: UploadFormat,
  evolve: boolean,
  raw: string,
): LakehouseError {
  const value = f.value.length > MAX_SHOWN_VALUE ? `${f.value.slice(0, MAX_SHOWN_VALUE)}…` : f.value;
  const where = f.line !== undefined ? `line ${f.line}` : f.row !== undefined ? `row ${f.row}` : "a row";
  const hint = evolve ? "" : "; fix the value, or pass schema=evolve to widen the column to a type it fits";
  const what = format === "csv" ? "CSV" : format === "ndjson" ? "NDJSON" : "Parquet";
  return new BadRequest(
    `the ${what} upload does not fit the dataset's schema: ${where}, column "${f.column}": ${JSON.stringify(value)} is not a valid ${f.type}${hint}; nothing was stored`,
    { ...(f.line !== undefined ? { line: f.line } : {}), ...(f.row !== undefined ? { row: f.row } : {}), column: f.column, value, type: f.type },
    { cause: new Error(raw) },
  );
}
