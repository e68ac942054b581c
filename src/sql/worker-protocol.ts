// The messages between the server and a SQL worker process (Bun IPC, structured clone, so Arrow
// bytes cross as they are). The server sends one statement at a time per worker; view DDL may
// arrive while a statement runs and is applied on the worker's own connection, in order. An
// export answers with a head, then pieces (each acknowledged by the server once its client took
// it, which is what lets the worker send the next), then its end.
import type { ErrorCode } from "../errors.ts";
import type { StatementAnswer, StatementRequest } from "./execute.ts";
import type { ExportAnswer, ExportHead, ExportRequest } from "./export.ts";
import type { SandboxOptions } from "./sandbox.ts";

export type WorkerOptions = SandboxOptions & {
  /** Where the worker makes its own directory for Parquet exports (inside its sandbox, removed when it exits). */
  exportDir: string;
};

export type ToWorker =
  | { t: "ddl"; id: number; statements: string[] }
  | { t: "query"; id: number; req: StatementRequest }
  | { t: "export"; id: number; req: ExportRequest }
  | { t: "ack"; id: number }
  | { t: "interrupt"; id: number };

/** A failure inside the worker: a domain error it raised (with its code) or DuckDB's own message. */
export interface WorkerFailure {
  code?: ErrorCode;
  message: string;
  details?: unknown;
}

export type FromWorker =
  | { t: "ready" }
  | { t: "fatal"; message: string }
  | { t: "ddl"; id: number; failures: { statement: number; message: string }[] }
  | { t: "query"; id: number; ok: true; answer: StatementAnswer }
  | { t: "query"; id: number; ok: false; failure: WorkerFailure }
  | { t: "head"; id: number; head: ExportHead }
  | { t: "piece"; id: number; bytes: Uint8Array }
  | { t: "export"; id: number; ok: true; answer: ExportAnswer }
  | { t: "export"; id: number; ok: false; failure: WorkerFailure };
