// Entry point of a SQL worker process (spawned by src/sql/worker-client.ts): one sandboxed DuckDB
// instance, one statement at a time on its query connection, view DDL on another. The server
// watches this process's memory and kills it past its caps; it exits by itself when the server
// goes away.
import type { DuckDBConnection } from "@duckdb/node-api";
import { LakehouseError } from "../errors.ts";
import { runStatement } from "./execute.ts";
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
  "SELECT i::TINYINT, i::BIGINT, i::DOUBLE, i % 2 = 0, 'text ' || i, NULL::VARCHAR, DATE '2024-01-01' + i::INT, [i], '\\x01'::BLOB FROM range(8) t(i)";
const WARM_UP_RUNS = 30;

const send = (m: FromWorker) => process.send!(m);
const failure = (err: unknown): WorkerFailure =>
  err instanceof LakehouseError
    ? { code: err.code, message: err.message, details: err.details }
    : { message: err instanceof Error ? err.message : String(err) };

process.on("disconnect", () => process.exit(0));

const opts = JSON.parse(process.argv.at(-1)!) as WorkerOptions;
let instance: Awaited<ReturnType<typeof openSandbox>>;
let admin: DuckDBConnection;
let conn: DuckDBConnection;
try {
  instance = await openSandbox(opts);
  admin = await instance.connect();
  conn = await instance.connect();
} catch (err) {
  send({ t: "fatal", message: failure(err).message });
  process.exit(1);
}

// The first Arrow encodings in a process cost ≈10 ms, then ≈1 ms for a while, before the JIT has
// them (measured on a 10-row result): paid here, before the worker takes statements, rather than
// by its first callers.
for (let i = 0; i < WARM_UP_RUNS; i++) {
  await runStatement(conn, { sql: WARM_UP_SQL, params: [], maxRows: 10, maxBytes: 1 << 20, format: "wire" });
}

let ddlChain = Promise.resolve();
let queryChain = Promise.resolve();
let running: { id: number; repeat?: ReturnType<typeof setInterval> } | null = null;

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
  const current: { id: number; repeat?: ReturnType<typeof setInterval> } = { id };
  running = current;
  let reply: FromWorker;
  try {
    reply = { t: "query", id, ok: true, answer: await runStatement(conn, m.req) };
  } catch (err) {
    reply = { t: "query", id, ok: false, failure: failure(err) };
  } finally {
    running = null;
  }
  if (current.repeat) {
    // An interrupted connection is not reused.
    clearInterval(current.repeat);
    conn.closeSync();
    conn = await instance.connect();
  }
  send(reply);
}

function interrupt(id: number): void {
  const current = running;
  if (!current || current.id !== id || current.repeat) return;
  conn.interrupt();
  current.repeat = setInterval(() => conn.interrupt(), INTERRUPT_EVERY_MS);
}

process.on("message", (m: ToWorker) => {
  if (m.t === "ddl") ddlChain = ddlChain.then(() => ddl(m.id, m.statements));
  else if (m.t === "query") queryChain = queryChain.then(() => query(m.id, m));
  else if (m.t === "interrupt") interrupt(m.id);
});
send({ t: "ready" });
