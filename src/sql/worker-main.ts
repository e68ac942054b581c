// Entry point of a SQL worker process (spawned by src/sql/worker-client.ts): one sandboxed DuckDB
// instance, one statement at a time on its query connection, view DDL on another. The server
// watches this process's memory and kills it past its caps; it exits by itself when the server
// goes away.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { LakehouseError } from "../errors.ts";
import { runStatement } from "./execute.ts";
import { type ExportSink, runExport } from "./export.ts";
import { openSandbox } from "./sandbox.ts";
import type { FromWorker, ToWorker, WorkerFailure, WorkerOptions } from "./worker-protocol.ts";

/**
 * An interrupt reaches only a statement that is executing; one still waiting for a DuckDB thread
 * misses it, so it is repeated until the statement returns (measured: stops a runaway scan in
 * about 200 ms).
 */
const INTERRUPT_EVERY_MS = 50;

/** A statement with a column of each kind the wire carries, run before the first caller's. */
const WARM_UP_SQL =
  "SELECT (i % 100)::TINYINT, i::BIGINT, i::DOUBLE, i % 2 = 0, 'text ' || i, NULL::VARCHAR, DATE '2024-01-01' + i::INT, [i], '\\x01'::BLOB FROM range(512) t(i)";
const WARM_UP_RUNS = 30;
/**
 * Export pieces (about 1 MiB each) sent and not yet taken by the server's client: the worker waits
 * past this many, so a slow reader holds the statement back rather than filling either process.
 */
const PIECES_IN_FLIGHT = 2;

const send = (m: FromWorker) => process.send!(m);
const failure = (err: unknown): WorkerFailure =>
  err instanceof LakehouseError
    ? { code: err.code, message: err.message, details: err.details }
    : { message: err instanceof Error ? err.message : String(err) };

const opts = JSON.parse(process.argv.at(-1)!) as WorkerOptions;
// This worker's own directory for Parquet exports; the server's work directory around it is removed
// when the server closes or, after a crash, when it next starts.
const exportDir = join(opts.exportDir, `w-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
const cleanUp = () => rmSync(exportDir, { recursive: true, force: true });
process.on("exit", cleanUp);
process.on("disconnect", () => process.exit(0));

let instance: Awaited<ReturnType<typeof openSandbox>>;
let admin: DuckDBConnection;
let conn: DuckDBConnection;
try {
  // Not recursive: a worker orphaned by a server killed with SIGKILL must not re-create the server's
  // work directory after the next start removed it as a leftover (it fails to start instead).
  mkdirSync(exportDir);
  instance = await openSandbox({ ...opts, allowedDirs: [...opts.allowedDirs, `${exportDir}/`] });
  admin = await instance.connect();
  conn = await instance.connect();
} catch (err) {
  send({ t: "fatal", message: failure(err).message });
  process.exit(1);
}

// The first Arrow encodings in a process cost ≈10 ms, then ≈1 ms for a while, before the JIT has
// them (measured on a 10-row result): paid here, before the worker takes statements, rather than
// by its first callers.
// Both ways a JSON answer crosses are warmed: 10 rows go as JSON values, 512 rows (over
// SMALL_VALUES values) as an Arrow stream (src/sql/execute.ts).
for (let i = 0; i < WARM_UP_RUNS; i++) {
  await runStatement(conn, { sql: WARM_UP_SQL, params: [], maxRows: i % 2 === 0 ? 10 : 512, maxBytes: 1 << 20, format: "wire" });
}

let ddlChain = Promise.resolve();
let queryChain = Promise.resolve();
interface Running {
  id: number;
  repeat?: ReturnType<typeof setInterval>;
  /** An export: the server asked it to stop; and the wait for the server to take a piece. */
  cancelled?: boolean;
  inFlight?: number;
  wake?: () => void;
}
let running: Running | null = null;

async function ddl(id: number, statements: string[]): Promise<void> {
  const failures: { statement: number; message: string }[] = [];
  for (const [i, sql] of statements.entries()) {
    try {
      await admin.run(sql);
    } catch (err) {
      failures.push({ statement: i, message: failure(err).message });
    }
  }
  send({ t: "ddl", id, failures });
}

async function query(id: number, m: Extract<ToWorker, { t: "query" }>): Promise<void> {
  const current: Running = { id };
  running = current;
  let reply: FromWorker;
  try {
    reply = { t: "query", id, ok: true, answer: await runStatement(conn, m.req) };
  } catch (err) {
    reply = { t: "query", id, ok: false, failure: failure(err) };
  } finally {
    running = null;
  }
  await afterStatement(current);
  send(reply);
}

async function exportQuery(id: number, m: Extract<ToWorker, { t: "export" }>): Promise<void> {
  const current: Running = { id, inFlight: 0 };
  running = current;
  const sink: ExportSink = {
    head: (head) => send({ t: "head", id, head }),
    async piece(bytes) {
      send({ t: "piece", id, bytes });
      current.inFlight! += 1;
      while (current.inFlight! >= PIECES_IN_FLIGHT && !current.cancelled) await new Promise<void>((wake) => (current.wake = wake));
    },
    get cancelled() {
      return current.cancelled === true;
    },
  };
  let reply: FromWorker;
  try {
    reply = { t: "export", id, ok: true, answer: await runExport(conn, m.req, sink, exportDir) };
  } catch (err) {
    reply = { t: "export", id, ok: false, failure: failure(err) };
  } finally {
    running = null;
  }
  await afterStatement(current);
  send(reply);
}

function ack(id: number): void {
  const current = running;
  if (!current || current.id !== id || current.inFlight === undefined) return;
  current.inFlight -= 1;
  current.wake?.();
}

async function afterStatement(current: Running): Promise<void> {
  if (current.repeat) {
    // An interrupted connection is not reused.
    clearInterval(current.repeat);
    conn.closeSync();
    conn = await instance.connect();
  }
}

function interrupt(id: number): void {
  const current = running;
  if (!current || current.id !== id || current.repeat) return;
  // An export waiting for the server to take a piece is not inside DuckDB: it stops at its next check.
  current.cancelled = true;
  current.wake?.();
  conn.interrupt();
  current.repeat = setInterval(() => conn.interrupt(), INTERRUPT_EVERY_MS);
}

process.on("message", (m: ToWorker) => {
  if (m.t === "ddl") ddlChain = ddlChain.then(() => ddl(m.id, m.statements));
  else if (m.t === "query") queryChain = queryChain.then(() => query(m.id, m));
  else if (m.t === "export") queryChain = queryChain.then(() => exportQuery(m.id, m));
  else if (m.t === "ack") ack(m.id);
  else if (m.t === "interrupt") interrupt(m.id);
});
send({ t: "ready" });
