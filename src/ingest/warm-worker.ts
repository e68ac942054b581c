// The warm conversion process (issue 11, point 5): uploads up to ingest.inline_max_bytes are
// converted by one reused process instead of a new one each, which cost 0.3–3 s for a 2-row CSV
// (Bun and DuckDB starting). It stays a separate process, sandboxed exactly like the per-upload one
// (duckdb-convert.ts openSandboxed), so a DuckDB crash still fails one upload, not the server. Jobs
// run one at a time; the process is replaced after it died (the job it was running fails, as with
// the per-upload process), after `maxJobs` jobs, and when its RSS after a job passes `maxRssBytes`,
// so memory a job leaves behind cannot pile up. Killed on close.
import type { Logger } from "../log.ts";
import { Semaphore } from "../lib/semaphore.ts";
import { workerCommand, workerEnv } from "../lib/worker-process.ts";
import type { ConvertJob, ConvertOutcome } from "./duckdb-convert.ts";
import { cannotStart, processFailure } from "./process-failure.ts";
import type { WarmSettings } from "./convert-warm-worker.ts";

export interface WarmLimits {
  /** Jobs one process serves before it is replaced. */
  maxJobs: number;
  /** RSS after a job past which the process is replaced. */
  maxRssBytes: number;
}

type Proc = ReturnType<typeof Bun.spawn<"pipe", "pipe", "pipe">>;

interface Running {
  proc: Proc;
  lines: LineReader;
  jobs: number;
  stderr: { tail: string };
}

/** Lines of a byte stream, one at a time; null at its end. */
class LineReader {
  private buf = "";
  private readonly decoder = new TextDecoder();
  private readonly chunks: AsyncIterator<Uint8Array>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  async next(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        return line;
      }
      const { done, value } = await this.chunks.next();
      if (done) return null;
      this.buf += this.decoder.decode(value, { stream: true });
    }
  }
}

export class WarmWorker {
  private readonly gate = new Semaphore(1);
  private running: Running | null = null;
  private closing = false;
  /** Processes started (tests and the log read it). */
  started = 0;

  constructor(
    private readonly settings: WarmSettings,
    private readonly limits: WarmLimits,
    private readonly log: Logger,
  ) {}

  /** Converts one job in the warm process, starting it when none runs. */
  run(job: ConvertJob): Promise<ConvertOutcome> {
    return this.gate.run(() => this.once(job));
  }

  /** The running process's pid, if any (tests). */
  get pid(): number | undefined {
    return this.running?.proc.pid;
  }

  private async once(job: ConvertJob): Promise<ConvertOutcome> {
    if (this.closing) throw processFailure("SIGTERM", null, true);
    let w = this.running;
    if (w && (w.proc.exitCode !== null || w.proc.signalCode !== null)) w = null;
    w ??= await this.start();
    let line: string | null;
    try {
      w.proc.stdin.write(`${JSON.stringify(job)}\n`);
      await w.proc.stdin.flush();
      line = await w.lines.next();
    } catch {
      line = null;
    }
    const outcome = line === null ? null : parse(line);
    if (!outcome) {
      // It died under this job (or printed nonsense): this job fails, the next one gets a new process.
      const code = await exitOf(w.proc);
      this.running = null;
      const signal = w.proc.signalCode === null ? undefined : String(w.proc.signalCode);
      this.log.error("ingest conversion process failed", { warm: true, code, signal, stderr: w.stderr.tail });
      throw processFailure(signal, code, this.closing);
    }
    w.jobs++;
    const rss = outcome.rss_bytes ?? 0;
    if (w.jobs >= this.limits.maxJobs || rss > this.limits.maxRssBytes) {
      this.log.info("recycling the warm conversion process", { jobs: w.jobs, rss_bytes: rss });
      this.stop(w);
    }
    return outcome;
  }

  private async start(): Promise<Running> {
    let proc: Proc;
    try {
      // It needs no configuration, so it gets none of the server's environment (secrets).
      proc = Bun.spawn(workerCommand("convert-warm", JSON.stringify(this.settings)), { env: workerEnv(), stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    } catch (err) {
      throw cannotStart(err);
    }
    this.started++;
    const stderr = { tail: "" };
    void drain(proc.stderr, stderr);
    const w: Running = { proc, lines: new LineReader(proc.stdout), jobs: 0, stderr };
    // Died while idle (killed from outside): the next job starts a new one instead of failing.
    void proc.exited.then(() => {
      if (this.running === w) this.running = null;
    });
    const ready = await w.lines.next().catch(() => null);
    if (ready === null || !ready.includes('"ready"')) {
      const code = await exitOf(proc);
      const signal = proc.signalCode === null ? undefined : String(proc.signalCode);
      this.log.error("the warm conversion process did not start", { code, signal, stderr: stderr.tail });
      throw processFailure(signal, code, this.closing);
    }
    this.running = w;
    return w;
  }

  private stop(w: Running): void {
    if (this.running === w) this.running = null;
    w.proc.kill();
  }

  /** Kills the process (shutdown); a job running now fails saying the server is shutting down. */
  close(): void {
    this.closing = true;
    if (this.running) this.stop(this.running);
  }
}

function parse(line: string): ConvertOutcome | null {
  try {
    const v = JSON.parse(line);
    return v && typeof v === "object" && "ok" in v ? (v as ConvertOutcome) : null;
  } catch {
    return null;
  }
}

/** The exit code, once the process has exited (killed: null). */
async function exitOf(proc: Proc): Promise<number | null> {
  proc.kill();
  await proc.exited;
  return proc.exitCode;
}

/** Reads stderr so the process never blocks on a full pipe; keeps the tail for the log. */
async function drain(stream: ReadableStream<Uint8Array>, into: { tail: string }): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) into.tail = (into.tail + decoder.decode(chunk, { stream: true })).slice(-2000);
  } catch {
    // the process is gone
  }
}
