#!/usr/bin/env bun
// Lakehouse benchmark: a 500,000-row × 18-column staffing CSV ingested over HTTP into a real server
// process, against raw DuckDB converting the same file in its own process (the ceiling), then SQL
// latency over HTTP against the same queries run through a SQL worker process from this process
// (the per-statement cost of the process boundary) and in-process on the same Parquet; last, a
// statement past sql.max_statement_rss, with the server's memory before and after; then the 3M-row
// case (scripts/bench/lakehouse-3m.ts): SQL's fixed cost per statement and whole-result exports.
//
//   bun scripts/bench/lakehouse.ts [--rows 500000] [--runs 3] [--queries 50] [--rows3m 3000000] [--only 3m]
import { DuckDBInstance } from "@duckdb/node-api";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { SqlEngine } from "../../src/sql/engine.ts";
import { runStatement } from "../../src/sql/execute.ts";
import { createViewSql } from "../../src/sql/views.ts";
import { sqlWorkers } from "../../test/support/workers.ts";
import { run3m } from "./lakehouse-3m.ts";
import { machineLine, percentile, writeSection } from "./report.ts";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, i, all) => (a.startsWith("--") ? [a.slice(2), all[i + 1]] : []))
    .filter((x) => x.length),
);
const ROWS = Number(args.rows ?? 500_000);
const RUNS = Number(args.runs ?? 3);
const QUERY_RUNS = Number(args.queries ?? 50);
const ROOT = join(import.meta.dir, "..", "..");
const WORK = "/tmp/lh-bench";
const CSV = join(WORK, `workers_${ROWS}.csv`);
const MiB = 1024 * 1024;
const ROWS_3M = Number(args.rows3m ?? 3_000_000);

if (args.only === "3m") {
  await run3m({ root: ROOT, work: WORK, rows: ROWS_3M, runs: RUNS, queries: QUERY_RUNS });
  process.exit(0);
}

mkdirSync(WORK, { recursive: true });
if (!existsSync(CSV)) {
  const gen = Bun.spawnSync(["bun", join(ROOT, "scripts/datagen/gen_staffing.ts"), "--rows", String(ROWS), "--out", CSV], { stderr: "inherit" });
  if (gen.exitCode !== 0) throw new Error("datagen failed");
}
const csvBytes = statSync(CSV).size;
const loadBefore = loadavg()[0]!;
console.log(`input: ${CSV} (${(csvBytes / MiB).toFixed(1)} MiB)`);

const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
const rssNow = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
/** The server's cap on one statement's worker, set small here so the probe at the end is quick. */
const STATEMENT_RSS = 512 * MiB;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Raw DuckDB: the same reader options the server uses, in a fresh process each run.
const RAW = `
import { DuckDBInstance } from "@duckdb/node-api";
import { readFileSync, rmSync } from "node:fs";
const [csv, out] = process.argv.slice(2);
rmSync(out, { force: true });
const db = await DuckDBInstance.create(":memory:");
const c = await db.connect();
await c.run("SET threads=2");
const t = performance.now();
await c.run(\`COPY (SELECT * FROM read_csv('\${csv}', sample_size=-1)) TO '\${out}' (FORMAT parquet, COMPRESSION snappy)\`);
const ms = performance.now() - t;
const rss = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
console.log(JSON.stringify({ ms, rss }));
`;
const rawScript = join(WORK, "raw-duckdb.ts");
await Bun.write(rawScript, RAW);
const raw: { ms: number; rss: number }[] = [];
const runRaw = (i: number) => {
  const p = Bun.spawnSync(["bun", rawScript, CSV, join(WORK, "raw.parquet")], { cwd: ROOT, stderr: "inherit" });
  raw.push(JSON.parse(p.stdout.toString().trim().split("\n").at(-1)!));
  console.log(`raw duckdb run ${i + 1}: ${(raw.at(-1)!.ms / 1000).toFixed(2)} s`);
};

// The server, as users run it.
const dataRoot = join(WORK, `data-${process.pid}`);
const server = Bun.spawn(["bun", join(ROOT, "src/main.ts")], {
  cwd: ROOT,
  env: {
    ...process.env,
    LH_STORAGE_FS_ROOT: dataRoot,
    LH_SERVER_BIND: "127.0.0.1:0",
    LH_SERVER_ACCESS_LOG: "false",
    LH_INGEST_MAX_INGEST_BYTES: String(1024 * MiB),
    LH_SQL_MAX_STATEMENT_RSS: String(STATEMENT_RSS),
  },
  stdout: "pipe",
  stderr: "inherit",
});
let url = "";
const reader = server.stdout.getReader();
let buffered = "";
while (!url) {
  const { value, done } = await reader.read();
  if (done) throw new Error("server exited");
  buffered += new TextDecoder().decode(value);
  const line = buffered.split("\n").find((l) => l.includes('"lakehouse started"'));
  if (line) url = JSON.parse(line).listen;
}
let serverLog = buffered;
void (async () => {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    serverLog += new TextDecoder().decode(value);
  }
})();
/** Peak RSS of the conversion processes the server ran, from its log. */
const conversionPeak = () =>
  Math.max(
    0,
    ...serverLog
      .split("\n")
      .filter((l) => l.includes('"ingest conversion"'))
      .map((l) => Number(JSON.parse(l).peak_rss_bytes)),
  );
const rssAtStart = peakRss(server.pid);

// Raw and server runs alternate, so both see the same background load on this shared machine.
const ingests: { ms: number; serverMs: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  runRaw(i);
  const name = i === RUNS - 1 ? "workers" : `workers_run${i}`;
  const t = performance.now();
  const res = await fetch(`${url}/v1/ingest/${name}?mode=replace`, { method: "POST", headers: { "content-type": "text/csv" }, body: Bun.file(CSV) });
  const body = (await res.json()) as { rows: number; ms: number; result: string };
  const ms = performance.now() - t;
  if (res.status !== 201 || body.rows !== ROWS) throw new Error(`ingest failed: ${res.status} ${JSON.stringify(body)}`);
  ingests.push({ ms, serverMs: body.ms });
  console.log(`ingest run ${i + 1}: ${(ms / 1000).toFixed(2)} s (${body.result})`);
  if (name !== "workers") await fetch(`${url}/v1/catalog/datasets/${name}`, { method: "DELETE" });
}
const serverPeak = peakRss(server.pid);
await Bun.sleep(100);
const converterPeak = conversionPeak();

const QUERIES: [string, string][] = [
  ["SELECT 1 (per-statement floor)", "SELECT 1"],
  ["count(*)", "SELECT count(*) FROM workers"],
  ["GROUP BY state, count + avg", "SELECT state, count(*) AS n, avg(hourly_rate) AS avg_rate FROM workers GROUP BY state ORDER BY state"],
  ["AVG(hourly_rate)", "SELECT avg(hourly_rate) FROM workers"],
  ["filtered top-10", "SELECT worker_id, first_name, last_name, hourly_rate FROM workers WHERE state = 'CA' AND available ORDER BY hourly_rate DESC LIMIT 10"],
  ["DESCRIBE", "DESCRIBE workers"],
];

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

const catalog = (await (await fetch(`${url}/v1/catalog/datasets/workers`)).json()) as { objects: { key: string }[]; fields: never[] };
const parquet = join(dataRoot, "objects", catalog.objects[0]!.key);
const db = await DuckDBInstance.create(":memory:");
const conn = await db.connect();
await conn.run("SET threads=2");
await conn.run(`CREATE VIEW workers AS SELECT * FROM read_parquet('${parquet}')`);
// The server's own engine, opened here: statements go to a SQL worker process and back (Arrow
// IPC), without HTTP.
const engine = await SqlEngine.open({
  allowedDirs: [`${join(dataRoot, "objects", "datasets")}/`],
  threads: 2,
  memoryLimit: "1GB",
  timeoutMs: 30_000,
  maxRows: 10_000,
  maxConcurrent: 2,
  maxStatementRss: 2048 * MiB,
  maxTotalRss: 4096 * MiB,
  maxResponseBytes: 16 * MiB,
  maxExportBytes: 128 * MiB,
  exportTimeoutMs: 600_000,
  exportDir: join(WORK, `export-${process.pid}`),
  log: silentLogger,
  onReplayFailure: () => {},
});
await engine.setView("workers", createViewSql("workers", catalog.fields, [parquet]));

type Latency = { p50: number; p95: number };
const latency: { name: string; http: Latency; worker: Latency; checked: Latency; raw: Latency }[] = [];
for (const [name, statement] of QUERIES) {
  const http = await time(async () => {
    const res = await fetch(`${url}/v1/sql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sql: statement }) });
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  });
  const worker = await time(() => engine.query(statement));
  const checked = await time(() => runStatement(conn, { sql: statement, params: [], maxRows: 10_000, maxBytes: 16 * MiB, format: "wire" }));
  const rawQ = await time(async () => (await conn.runAndReadAll(statement)).getRows());
  latency.push({ name, http, worker, checked, raw: rawQ });
  console.log(
    `${name}: HTTP p50 ${http.p50.toFixed(2)} ms p95 ${http.p95.toFixed(2)} ms; via worker p50 ${worker.p50.toFixed(2)} ms; ` +
      `checked in-process p50 ${checked.p50.toFixed(2)} ms; in-process DuckDB p50 ${rawQ.p50.toFixed(2)} ms`,
  );
}
await engine.close();
conn.closeSync();
db.closeSync();

// A statement that would take the host down (a 16 GB list; sql.memory_limit does not bound it).
const workersIdle = sqlWorkers(server.pid)
  .map(rssNow)
  .reduce((a, b) => a + b, 0);
const serverBefore = { rss: rssNow(server.pid), peak: peakRss(server.pid) };
const hogStart = performance.now();
const hog = await fetch(`${url}/v1/sql`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ sql: "SELECT length(range(0, 2000000000))" }),
});
const hogMs = performance.now() - hogStart;
const hogBody = (await hog.json()) as { error: { code: string; details: { rss_bytes: number } } };
const serverAfter = { rss: rssNow(server.pid), peak: peakRss(server.pid) };
const nextStart = performance.now();
const next = await fetch(`${url}/v1/sql`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ sql: "SELECT count(*) FROM workers" }),
});
const nextMs = performance.now() - nextStart;
if (hog.status !== 422 || next.status !== 200) throw new Error(`memory cap probe: ${hog.status} ${JSON.stringify(hogBody)}, then ${next.status}`);
console.log(
  `memory cap: 422 ${hogBody.error.code} after ${hogMs.toFixed(0)} ms; server RSS ${serverBefore.rss / MiB} → ${serverAfter.rss / MiB} MiB; next statement ${nextMs.toFixed(0)} ms`,
);
server.kill("SIGTERM");
await server.exited;
Bun.spawnSync(["rm", "-rf", dataRoot]);

const ours = median(ingests.map((x) => x.ms));
const ceiling = median(raw.map((x) => x.ms));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mibps = (ms: number) => `${(csvBytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
const gib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
const md = `
## Lakehouse: ingest and SQL

${machineLine()}; 1-minute load average ${loadBefore.toFixed(2)} at the start (the machine is shared: raw and server runs alternate so both see the same load). Command: \`bun scripts/bench/lakehouse.ts --rows ${ROWS} --runs ${RUNS} --queries ${QUERY_RUNS}\`.
Input: \`scripts/datagen/gen_staffing.ts --rows ${ROWS}\` (18 columns, ${(csvBytes / MiB).toFixed(1)} MiB, RFC 4180 with quoted newlines).

### Ingest (CSV → Parquet, snappy), median of ${RUNS}

| | wall time | throughput | peak RSS |
|---|---|---|---|
| \`POST /v1/ingest\` to a server process (upload streamed to disk, whole-file type inference, COPY to Parquet in a conversion process, SHA-256, store, commit) | ${s(ours)} | ${mibps(ours)} | server ${gib(serverPeak)} (${gib(rssAtStart)} after start-up); conversion process ${gib(converterPeak)} |
| raw DuckDB \`COPY (SELECT * FROM read_csv(..., sample_size=-1)) TO ... (FORMAT parquet, COMPRESSION snappy)\`, 2 threads, own process | ${s(ceiling)} | ${mibps(ceiling)} | ${gib(median(raw.map((x) => x.rss)))} |
| ratio (ours / raw) | **${(ours / ceiling).toFixed(2)}×** | | |

Target: ≤ 1.3× raw DuckDB with peak RSS ≤ 1 GiB. Runs: ours ${ingests.map((x) => s(x.ms)).join(", ")} (server-side ${ingests.map((x) => s(x.serverMs)).join(", ")}); raw ${raw.map((x) => s(x.ms)).join(", ")}.

### SQL latency over HTTP (${QUERY_RUNS} runs after 5 warm-ups, JSON responses) vs in-process DuckDB on the same Parquet

Each statement runs in a SQL worker process (one statement per worker, its memory watched). "via worker" is the server's engine
called from the benchmark process without HTTP; "checked" is what a worker does for a statement (one-statement and read-only
checks, streaming read, Arrow encoding) run in this process; "in-process" is bare DuckDB. So "via worker" − "checked" is the
process boundary's cost per statement (IPC both ways, Arrow decoding, scheduling a second process), "checked" − "in-process"
the sandbox checks', and "HTTP" − "via worker" the edge's.

| query | HTTP p50 | HTTP p95 | via worker p50 | checked p50 | in-process p50 | boundary (worker − checked) | ratio p50 (HTTP / in-process) |
|---|---|---|---|---|---|---|---|
${latency.map((l) => `| ${l.name} | ${l.http.p50.toFixed(2)} ms | ${l.http.p95.toFixed(2)} ms | ${l.worker.p50.toFixed(2)} ms | ${l.checked.p50.toFixed(2)} ms | ${l.raw.p50.toFixed(2)} ms | ${(l.worker.p50 - l.checked.p50).toFixed(2)} ms | ${(l.http.p50 / l.raw.p50).toFixed(2)}× |`).join("\n")}

Target: p50 ≤ 15 ms for each (the Go predecessor measured 24–47 ms).

### A statement past its memory cap

\`SELECT length(range(0, 2000000000))\` (a 16 GB list; it grew the one-process server to 18.8 GiB before) with
\`sql.max_statement_rss\` = ${gib(STATEMENT_RSS)}: 422 \`${hogBody.error.code}\` after ${(hogMs / 1000).toFixed(2)} s (worker at ${gib(hogBody.error.details.rss_bytes)} when killed).
Server RSS ${gib(serverBefore.rss)} before, ${gib(serverAfter.rss)} after (peak ${gib(serverBefore.peak)} → ${gib(serverAfter.peak)}); idle SQL workers ${gib(workersIdle)} in all
before it. The next statement (\`count(*)\`, on a fresh or spare worker) answered in ${nextMs.toFixed(0)} ms.
`;
writeSection("lakehouse", md);
console.log(md);
await run3m({ root: ROOT, work: WORK, rows: ROWS_3M, runs: RUNS, queries: QUERY_RUNS });
