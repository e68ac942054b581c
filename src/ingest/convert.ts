// Converts a spooled upload to Parquet (Snappy) with DuckDB's readers and writer: bounded memory,
// and types inferred over the whole file (sample_size=-1), so a leading-zero code on row 400,000
// still keeps its column a string. Each conversion runs in its own process: it does not wait
// behind SQL statements for the server's native worker threads, its memory is returned when it
// ends, and a crash inside DuckDB fails one upload instead of the server.
import { createReadStream } from "node:fs";
import { BadRequest, LakehouseError, Unavailable } from "../errors.ts";
import type { Field } from "../catalog/schema.ts";
import type { Logger } from "../log.ts";
import { diskFull, isDiskFull } from "../lib/disk-full.ts";
import { Semaphore } from "../lib/semaphore.ts";
import { workerCommand, workerEnv } from "../lib/worker-process.ts";
import { CsvScanner } from "./csv-scan.ts";
import type { ConvertJob, ConvertOutcome, CsvOptions } from "./duckdb-convert.ts";
import type { UploadFormat } from "./upload.ts";

export type { CsvOptions } from "./duckdb-convert.ts";

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
  private closing = false;

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
    let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
    try {
      // The worker needs no configuration, so it gets none of the server's environment (secrets).
      proc = Bun.spawn(workerCommand("convert", JSON.stringify(job)), { env: workerEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    } catch (err) {
      // Out of processes or memory (EAGAIN, ENOMEM): the host's state, not the upload's.
      throw new Unavailable("the conversion process could not be started; nothing was stored", undefined, { cause: err });
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

  /** Stops conversions still running (shutdown). */
  close(): void {
    this.closing = true;
    for (const proc of this.running) proc.kill();
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

/** Signals a process dies of when it crashes: the same upload would crash it again. */
const CRASH_SIGNALS = new Set(["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"]);

/**
 * What a caller is told when the conversion process ended without an outcome: nothing was stored
 * either way (the spool is removed, no commit happened), and the message says which way it died.
 */
function processFailure(signal: string | undefined, code: number | null, closing: boolean): LakehouseError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const details = signal ? { signal } : { exit_code: code };
  if (closing) return new Unavailable("the server is shutting down; the upload was not stored, send it again", details);
  if (signal && CRASH_SIGNALS.has(signal)) {
    // A crash inside DuckDB on this input: answering 5xx would invite a retry that crashes again.
    return new LakehouseError(
      "unprocessable",
      `the upload could not be converted: the conversion process ${how} while reading it; nothing was stored`,
      details,
    );
  }
  // SIGKILL is most often the kernel's out-of-memory killer; an exit code, a failure to start.
  return new Unavailable(`the conversion process ${how}${signal === "SIGKILL" ? " (out of memory?)" : ""}; nothing was stored`, details);
}

async function scanCsv(path: string, delimiter: string) {
  const scanner = new CsvScanner(delimiter.charCodeAt(0));
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    scanner.push(chunk as Buffer);
    if (scanner.found) break;
  }
  return scanner.found ?? scanner.finish();
}
