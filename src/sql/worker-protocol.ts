// The messages between the server and a SQL worker process (Bun IPC, structured clone, so Arrow
// bytes cross as they are). The server sends one statement at a time per worker; view DDL may
// arrive while a statement runs and is applied on the worker's own connection, in order.
import type { ErrorCode } from "../errors.ts";
import type { StatementAnswer, StatementRequest } from "./execute.ts";
import type { SandboxOptions } from "./sandbox.ts";

export type WorkerOptions = SandboxOptions;

export type ToWorker = { t: "ddl"; id: number; statements: string[] } | { t: "query"; id: number; req: StatementRequest } | { t: "interrupt"; id: number };

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
  | { t: "query"; id: number; ok: false; failure: WorkerFailure };
