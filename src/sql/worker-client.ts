// The server's handle on one SQL worker process: spawn, requests and their answers, interrupt,
// resident memory, kill. When the process ends, everything still pending on it fails with the
// reason it ended (killed at a cap, at a timeout, or crashed by itself).
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import type { Logger } from "../log.ts";
import { workerCommand, workerEnv } from "../lib/worker-process.ts";
import type { StatementAnswer, StatementRequest } from "./execute.ts";
import type { ExportAnswer, ExportHead, ExportRequest } from "./export.ts";
import type { FromWorker, ToWorker, WorkerFailure, WorkerOptions } from "./worker-protocol.ts";

export type ExitReason =
  | { kind: "statement_rss"; rssBytes: number }
  | { kind: "total_rss"; rssBytes: number; totalBytes: number }
  | { kind: "timeout" }
  | { kind: "retired" }
  | { kind: "crashed"; code: number | null; signal: string | null };

/** The worker ended while a request was pending on it. */
export class WorkerGone extends Error {
  constructor(readonly reason: ExitReason) {
    super(`the SQL worker ended (${reason.kind})`);
  }
}

/** The worker answered a statement with a failure. */
export class WorkerFailed extends Error {
  constructor(readonly failure: WorkerFailure) {
    super(failure.message);
  }
}

/** Resident set size of a process in bytes, or null when /proc cannot tell (not Linux, gone). */
export function residentBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Worker stderr kept for the log when it crashes. */
const STDERR_TAIL = 4096;

type Pending = { resolve: (m: FromWorker) => void; reject: (err: Error) => void };

/** Where an export's head and pieces go as they arrive (its end settles the request as usual). */
export interface ExportListener {
  head(head: ExportHead): void;
  piece(bytes: Uint8Array): void;
}

export class SqlWorker {
  private readonly proc: Subprocess<"ignore", "ignore", "pipe">;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<number, ExportListener>();
  private nextId = 0;
  private killedFor: ExitReason | null = null;
  private stderr = "";
  /** Why it ended, once it has. */
  gone: ExitReason | null = null;
  /** Resolves when the sandbox is open and it takes requests; rejects if it ends first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  /** When it last became idle (the pool retires workers idle too long). */
  idleSince = 0;
  /** Its resident memory once it held the views, before any statement. */
  startRss = 0;

  constructor(opts: WorkerOptions, log: Logger, onGone: (w: SqlWorker, reason: ExitReason) => void) {
    let ready!: { resolve: () => void; reject: (err: Error) => void };
    this.ready = new Promise((resolve, reject) => {
      ready = { resolve, reject };
    });
    // Unhandled if nobody waits (a worker retired while starting).
    this.ready.catch(() => {});
    let exited!: () => void;
    this.exited = new Promise((resolve) => {
      exited = resolve;
    });
    this.proc = Bun.spawn(workerCommand("sql", JSON.stringify(opts)), {
      // A statement holds one native thread while it runs and view DDL another.
      env: workerEnv({ UV_THREADPOOL_SIZE: "4" }),
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      serialization: "advanced",
      ipc: (m: FromWorker) => {
        if (m.t === "ready") ready.resolve();
        else if (m.t === "fatal") ready.reject(new Error(`the SQL worker could not open its sandbox: ${m.message}`));
        else this.settle(m);
      },
      onExit: (_proc, code, signal) => {
        const reason = this.killedFor ?? { kind: "crashed", code, signal: signal === null || signal === undefined ? null : String(signal) };
        this.gone = reason;
        if (reason.kind === "crashed") log.error("SQL worker ended unexpectedly", { pid: this.pid, code, signal, stderr: this.stderr.slice(-STDERR_TAIL) });
        ready.reject(new WorkerGone(reason));
        for (const p of this.pending.values()) p.reject(new WorkerGone(reason));
        this.pending.clear();
        this.listeners.clear();
        onGone(this, reason);
        exited();
      },
    });
    void this.collectStderr();
  }

  get pid(): number {
    return this.proc.pid;
  }

  private async collectStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.proc.stderr) this.stderr = (this.stderr + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
  }

  private settle(m: FromWorker): void {
    if (!("id" in m)) return;
    if (m.t === "head" || m.t === "piece") {
      const l = this.listeners.get(m.id);
      if (m.t === "head") l?.head(m.head);
      else l?.piece(m.bytes);
      return;
    }
    this.listeners.delete(m.id);
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    p?.resolve(m);
  }

  private request(make: (id: number) => ToWorker): { id: number; reply: Promise<FromWorker> } {
    const id = ++this.nextId;
    if (this.gone) return { id, reply: Promise.reject(new WorkerGone(this.gone)) };
    const reply = new Promise<FromWorker>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.send(make(id));
    return { id, reply };
  }

  /** Runs view DDL in order on the worker's own connection; the statements that failed, with DuckDB's message. */
  async ddl(statements: string[]): Promise<{ statement: number; message: string }[]> {
    const m = await this.request((id) => ({ t: "ddl", id, statements })).reply;
    return m.t === "ddl" ? m.failures : [];
  }

  /** Sends one statement; the worker runs one at a time. */
  query(req: StatementRequest): { id: number; answer: Promise<StatementAnswer> } {
    const { id, reply } = this.request((id) => ({ t: "query", id, req }));
    const answer = reply.then((m) => {
      if (m.t !== "query") throw new Error("unexpected reply from the SQL worker");
      if (!m.ok) throw new WorkerFailed(m.failure);
      return m.answer;
    });
    return { id, answer };
  }

  /** Starts an export; its head and pieces go to `listener`, `answer` settles at its end. */
  exportQuery(req: ExportRequest, listener: ExportListener): { id: number; answer: Promise<ExportAnswer> } {
    const { id, reply } = this.request((id) => {
      this.listeners.set(id, listener);
      return { t: "export", id, req };
    });
    const answer = reply.then((m) => {
      if (m.t !== "export") throw new Error("unexpected reply from the SQL worker");
      if (!m.ok) throw new WorkerFailed(m.failure);
      return m.answer;
    });
    answer.catch(() => this.listeners.delete(id));
    return { id, answer };
  }

  /** Tells the worker its export piece was taken by the client. */
  ack(id: number): void {
    if (!this.gone) this.send({ t: "ack", id });
  }

  /** Asks the worker to interrupt statement `id` (repeatedly, until it returns). */
  interrupt(id: number): void {
    if (!this.gone) this.send({ t: "interrupt", id });
  }

  private send(m: ToWorker): void {
    try {
      this.proc.send(m);
    } catch {
      // The process is ending: onExit fails whatever is pending with the reason.
    }
  }

  rss(): number | null {
    return this.gone ? null : residentBytes(this.pid);
  }

  /** SIGKILL: the process holds nothing that needs flushing. The first reason given is the one reported. */
  kill(reason: ExitReason): void {
    if (this.gone) return;
    this.killedFor ??= reason;
    this.proc.kill("SIGKILL");
  }
}
