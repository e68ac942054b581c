#!/usr/bin/env bun
// Soak: the real server (a child `bun src/main.ts`: token auth, access log on, a 512 MiB cap per SQL
// statement) seeded with staffing workers, a vector index and a matrix corpus, then SECONDS of
// mixed load — SQL (a heavy self-join among them), small appends, vector upserts and searches,
// matrix searches with playbook records, incremental corpus rebuilds — while faults are injected
// on a schedule (scripts/bench/soak-faults.ts). Reports requests, errors (caused by a fault or
// not), p50/p99 and memory per window, checks what the server acknowledged against its state at the
// end, and writes the "soak" section of docs/benchmarks.md. Exits 1 when a check fails.
//
//   bun scripts/bench/soak.ts [SECONDS=300] [--seed-rows 20000]
//
// The ingest spool is a 64 MiB tmpfs mounted in a mount namespace of the server's own
// (`unshare -m`; `unshare -rm` when not root), so filling it is a real "no space left on device"
// that touches nothing else on the machine; where no namespace can be made the spool faults are
// skipped and the report says so.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { rssOf, sqlWorkers } from "../../test/support/workers.ts";
import { tempDir } from "../../test/support/tmp.ts";
import { log, machineLine, writeSection } from "./report.ts";
import { abortedUpload, ask, type FaultContext, fillSpool, killSqlWorker, memoryProbe, slowUpload, spoolFiles, spoolNearlyFull } from "./soak-faults.ts";
import { Client, csvRecords, RowPool } from "./soak-client.ts";
import { acknowledged, CORPUS, type LoadControl, runLoad, VECTOR_DIM, VECTOR_INDEX } from "./soak-load.ts";
import { mib, Recorder, rssSlope, workersRss } from "./soak-record.ts";
import { faultsTable, overTime, serverErrors, totals } from "./soak-report.ts";

const { values: opts, positionals } = parseArgs({ allowPositionals: true, options: { "seed-rows": { type: "string", default: "20000" } } });
const SECONDS = Number(positionals[0] ?? 300);
const SEED_ROWS = Number(opts["seed-rows"]);
/** Rows kept back for appends: more than 5 minutes of them take (≈100 rows every ≈0.6 s). */
const POOL_ROWS = 60_000;
const MiB = 1024 * 1024;
const STATEMENT_RSS = 512 * MiB;
const SPOOL_BYTES = 64 * MiB;
/** The server's RSS must stay under this for the run to pass (it idles at ≈80 MiB). */
const SERVER_RSS_BOUND = 1024 * MiB;
const TOKEN = "soak-token";
const ROOT = join(import.meta.dir, "..", "..");
const LOAD_SHAPE = { sql: 3, vector: 2, matrix: 2 };

const work = tempDir("lh-soak-");
const spoolDir = join(work, "spool");
const logFile = join(work, "server.log");
const errFile = join(work, "server.stderr");
const loadAtStart = loadavg()[0]!;

// ---- data
log(`generating ${SEED_ROWS + POOL_ROWS} staffing workers`);
const csvPath = join(work, "workers.csv");
const gen = Bun.spawnSync(["bun", join(ROOT, "scripts/datagen/gen_staffing.ts"), "--rows", String(SEED_ROWS + POOL_ROWS), "--out", csvPath], {
  stderr: "ignore",
});
if (gen.exitCode !== 0) throw new Error("datagen failed");
const records = csvRecords(readFileSync(csvPath, "utf8"));
const header = records[0]!;
const seedCsv = `${header}\n${records.slice(1, SEED_ROWS + 1).join("\n")}\n`;
const pool = new RowPool(header, records.slice(SEED_ROWS + 1));
rmSync(csvPath);

// ---- server
Bun.spawnSync(["mkdir", "-p", spoolDir]);
const nsFlags = process.getuid?.() === 0 ? ["-m"] : ["-rm"];
const canMount =
  Bun.spawnSync(["unshare", ...nsFlags, "--propagation", "private", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0" && echo ok', spoolDir], {
    stderr: "ignore",
  })
    .stdout.toString()
    .trim() === "ok";
const serverCmd = canMount
  ? [
      "unshare",
      ...nsFlags,
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount -t tmpfs -o size=${SPOOL_BYTES} tmpfs "$0" && exec "$1" src/main.ts`,
      spoolDir,
      process.execPath,
    ]
  : [process.execPath, "src/main.ts"];
const server = Bun.spawn(serverCmd, {
  cwd: ROOT,
  env: {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    LH_SERVER_BIND: "127.0.0.1:0",
    LH_SERVER_ACCESS_LOG: "true",
    LH_AUTH_TOKEN: TOKEN,
    LH_STORAGE_FS_ROOT: join(work, "data"),
    LH_INGEST_TEMP_DIR: spoolDir,
    LH_SQL_MAX_STATEMENT_RSS: String(STATEMENT_RSS),
  },
  stdin: "ignore",
  stdout: Bun.file(logFile),
  stderr: Bun.file(errFile),
});
const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");
/** The access log and info lines go to stdout, warnings and errors to stderr. */
const serverLog = () => read(logFile) + read(errFile);
let url = "";
for (let i = 0; i < 600 && !url; i++) {
  const line = read(logFile)
    .split("\n")
    .find((l) => l.includes('"lakehouse started"'));
  if (line) url = JSON.parse(line).listen;
  else if (server.exitCode !== null) throw new Error(`server exited: ${read(errFile).slice(0, 2000)}`);
  else await Bun.sleep(50);
}
if (!url) throw new Error("server did not start in 30 s");
const pid = server.pid;
const spool = canMount ? `/proc/${pid}/root${spoolDir}` : undefined;
log(
  `server pid ${pid} at ${url}; spool ${canMount ? `a ${mib(SPOOL_BYTES)} tmpfs` : "on the real disk (no mount namespace: spool faults skipped)"}; work dir ${work}`,
);

const rec = new Recorder();
const client = new Client(url, TOKEN, rec);
const ctl: LoadControl = { stop: false, pauseIngest: false, ingestIdle: true };
const ack = acknowledged();
let finished = false;
try {
  // ---- seed
  const must = async (what: string, p: Promise<{ status: number; json: unknown }>) => {
    const res = await p;
    if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.json)}`);
    return res;
  };
  const seedStart = performance.now();
  await must("seed ingest", client.call("seed", "POST", "/v1/ingest/workers?mode=replace", undefined, { raw: seedCsv, contentType: "text/csv" }));
  await must("vector index", client.call("seed", "POST", "/v1/vectors/indexes", { name: VECTOR_INDEX, dim: VECTOR_DIM, metric: "cosine" }));
  for (let b = 0; b < 10; b++) {
    const items = Array.from({ length: 500 }, (_, i) => ({
      id: `v${b * 500 + i}`,
      vector: Array.from({ length: VECTOR_DIM }, (_, j) => Math.sin((b * 500 + i + 1) * (j + 1))),
      metadata: { state: "IL", rate: 20, shift: "day" },
    }));
    await must("vector seed", client.call("seed", "POST", `/v1/vectors/indexes/${VECTOR_INDEX}/upsert`, { items }));
    for (const it of items) ack.vectorIds.add(it.id);
  }
  await must("corpus", client.call("seed", "POST", "/v1/matrix/corpora", CORPUS));
  let corpus: { json: { state?: string; error?: string } };
  do {
    await Bun.sleep(200);
    corpus = await ask({ client }, `/v1/matrix/corpora/${CORPUS.name}`);
  } while (corpus.json.state === "building");
  if (corpus.json.state !== "ready") throw new Error(`corpus build: ${JSON.stringify(corpus.json)}`);
  const seedS = (performance.now() - seedStart) / 1000;
  log(`seeded in ${seedS.toFixed(1)} s: ${SEED_ROWS} workers (${(seedCsv.length / MiB).toFixed(1)} MiB CSV), 5,000 vectors, corpus ready`);
  rec.restart();

  // ---- memory, once a second
  const childPids = (parent: number) =>
    readdirSync("/proc")
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
      .filter((p) => {
        try {
          return Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1]) === parent;
        } catch {
          return false;
        }
      });
  const sampler = setInterval(() => {
    const workers = sqlWorkers(pid);
    const others = childPids(pid)
      .filter((p) => !workers.includes(p))
      .reduce((a, p) => a + rssOf(p), 0);
    rec.sampleMemory(
      rssOf(pid),
      workers.map((w) => [w, rssOf(w)]),
      others,
    );
  }, 1000);
  const rssAfterSeed = rssOf(pid);

  // ---- load and faults
  const durationMs = SECONDS * 1000;
  const seedMax = 100_000 + SEED_ROWS;
  const load = runLoad({ client, rec, ctl, ack, pool, maxWorkerId: () => seedMax - 100_000 + ack.appendedRows, rebuildEveryMs: durationMs / 4 }, LOAD_SHAPE);
  const fctx: FaultContext = {
    client,
    rec,
    ctl,
    ack,
    pool,
    serverPid: pid,
    spool,
    statementRssCap: STATEMENT_RSS,
    logLines: (rid) =>
      serverLog()
        .split("\n")
        .filter((l) => l.includes(`"request_id":"${rid}"`)),
  };
  const holdMs = Math.min(20_000, Math.max(3000, durationMs * 0.06));
  const plan: [number, () => Promise<unknown>][] = [
    [0.15, () => killSqlWorker(fctx, "SQL worker killed")],
    [0.3, () => memoryProbe(fctx)],
    [0.45, () => fillSpool(fctx, holdMs)],
    [0.58, () => spoolNearlyFull(fctx)],
    [0.68, () => Promise.all([slowUpload(fctx), abortedUpload(fctx)])],
    [0.82, () => killSqlWorker(fctx, "SQL worker killed again")],
  ];
  for (const [at, run] of plan) {
    const wait = at * durationMs - rec.now();
    if (wait > 0) await Bun.sleep(wait);
    const seen = rec.faults.length;
    await run();
    for (const f of rec.faults.slice(seen)) log(`fault "${f.name}" at ${(f.start / 1000).toFixed(1)} s: ${f.outcome.join("; ")}`);
  }
  const rest = durationMs - rec.now();
  if (rest > 0) await Bun.sleep(rest);
  ctl.stop = true;
  const endMs = rec.now();
  await load;
  clearInterval(sampler);
  log(`load stopped at ${(endMs / 1000).toFixed(1)} s; checking the server`);

  // ---- the server after it all
  await Bun.sleep(2000);
  const health = await ask({ client }, "/health");
  const count = await ask({ client }, "/v1/sql", { sql: "SELECT count(*) FROM workers" });
  const rows = Number(count.json?.rows?.[0]?.[0]);
  const expectedRows = SEED_ROWS + ack.appendedRows;
  const index = await ask({ client }, `/v1/vectors/indexes/${VECTOR_INDEX}`);
  const playbooks = await ask({ client }, "/v1/matrix/playbooks");
  const corpusEnd = await ask({ client }, `/v1/matrix/corpora/${CORPUS.name}`);
  const dataset = await ask({ client }, "/v1/catalog/datasets/workers");
  const leftovers = spool ? spoolFiles(spool) : [];
  const workersEnd = sqlWorkers(pid).map((w) => rssOf(w));
  const rssEnd = rssOf(pid);
  const logText = serverLog();
  const errorLines = logText.split("\n").filter((l) => l.includes('"level":"error"'));
  const access5xx = logText.split("\n").filter((l) => /"msg":"request".*"status":5\d\d/.test(l));
  const stopAt = performance.now();
  server.kill("SIGTERM");
  const exitCode = await Promise.race([server.exited, Bun.sleep(15_000).then(() => null)]);
  const stopS = (performance.now() - stopAt) / 1000;
  finished = true;

  // ---- figures
  const unexpected = rec.unexpected();
  const mem = rec.memory;
  const serverMax = Math.max(...mem.map((m) => m.server));
  const workersMax = Math.max(...mem.map(workersRss));
  const workerMax = Math.max(...mem.flatMap((m) => m.workers.map(([, r]) => r)));
  const half = mem.filter((m) => m.t >= endMs / 2);
  const slope = rssSlope(half);
  const loadAtEnd = loadavg()[0]!;
  const checks: [boolean, string][] = [
    [
      unexpected.length === 0,
      `unexpected errors: ${unexpected.length} (5xx not caused by a fault, 4xx on valid requests, no answer in 60 s, a fault's probe answered otherwise than it should)`,
    ],
    [
      serverMax < SERVER_RSS_BOUND,
      `server RSS bounded: max ${mib(serverMax)} (after seeding ${mib(rssAfterSeed)}, at the end ${mib(rssEnd)}; second half ${slope >= 0 ? "+" : ""}${slope.toFixed(1)} MiB/min) < ${mib(SERVER_RSS_BOUND)}`,
    ],
    [
      health.status === 200 && health.json?.status === "ok",
      `healthy after the faults: /health ${health.status} ${JSON.stringify(health.json?.status)}${health.json?.status === "ok" ? "" : ` ${JSON.stringify(health.json?.details ?? {}).slice(0, 400)}`}`,
    ],
    [
      rows === expectedRows,
      `every acknowledged append is there: count(*) = ${rows.toLocaleString("en-US")}, seed + acknowledged = ${expectedRows.toLocaleString("en-US")} (${ack.appends} appends, ${ack.unchanged} unchanged)`,
    ],
    [
      index.json?.count === ack.vectorIds.size,
      `every acknowledged vector is there: index count ${index.json?.count}, distinct acknowledged ids ${ack.vectorIds.size}`,
    ],
    [
      playbooks.json?.playbooks?.length === ack.playbooks,
      `every acknowledged playbook is there: ${playbooks.json?.playbooks?.length} listed, ${ack.playbooks} acknowledged`,
    ],
    [leftovers.length === 0, `nothing left in the spool: ${leftovers.length} files${leftovers.length ? ` (${leftovers.slice(0, 3).join(", ")})` : ""}`],
    [exitCode === 0, `SIGTERM after the run: exit ${exitCode} in ${stopS.toFixed(1)} s`],
  ];

  const { summary: errorSummary, unexpectedLines } = serverErrors(errorLines, unexpected);
  const builds = `${ack.builds.ready} ready, ${ack.builds.failed.length} failed${ack.builds.failed.length ? ` (${ack.builds.failed.join("; ")})` : ""}`;
  const md = `## Soak: mixed load with faults

Command: \`bun scripts/bench/soak.ts ${SECONDS}\` (${machineLine()}). 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end (the machine is shared; each row below gives it too).
The server is a child \`bun src/main.ts\` (token auth, access log on, fs store, \`sql.max_statement_rss\` = ${mib(STATEMENT_RSS)}, other settings default), its ingest spool ${canMount ? `a ${mib(SPOOL_BYTES)} tmpfs in a mount namespace of its own (\`unshare -m\`), so "disk full" is real and touches nothing else` : "on the real disk (no mount namespace could be made here, so the spool faults were skipped)"}.
Seeded (${seedS.toFixed(1)} s) with ${SEED_ROWS.toLocaleString("en-US")} staffing workers (\`scripts/datagen/gen_staffing.ts\`, 18 columns), a ${VECTOR_DIM}-dimension cosine index of 5,000 vectors and a matrix corpus over the workers. Then ${SECONDS} s of closed-loop load from one client process:
${LOAD_SHAPE.sql} SQL loops (point lookups with parameters, count, GROUP BY, filtered top-10, a regex scan, and 1 in 10 a self-join on state and skill), 1 loop appending 50–150 new rows (\`mode=append\`, CSV), ${LOAD_SHAPE.vector} vector loops (upserts of 100 over 20,000 ids, filtered searches), ${LOAD_SHAPE.matrix} matrix loops (filtered searches, 1 in 4 followed by a playbook record), an incremental corpus rebuild every ${(durationMs / 4000).toFixed(0)} s (${builds}) and \`/health\` every 2 s; 5–50 ms between a loop's requests (0.3–0.7 s between appends).
An error is "by a fault" when it is that fault's intended effect (503 + \`Retry-After\` for a statement in flight on a killed worker, 422 for the memory probe, 413/503/507 in the envelope for an upload into a full spool); every other non-2xx answer, and no answer within 60 s, is unexpected.

| check | |
|---|---|
${checks.map(([ok, what]) => `| ${ok ? "pass" : "**FAIL**"} | ${what.replaceAll("|", "\\|")} |`).join("\n")}

Over time (${endMs >= 120_000 ? 30 : 10} s rows; latency p50 / p99 in ms by the window a request ended in; memory sampled every second):

${overTime(rec, endMs >= 120_000 ? 30_000 : 10_000, endMs)}

Totals (fault probes not included):

${totals(rec, endMs)}

Memory: server RSS ${mib(rssAfterSeed)} after seeding, max ${mib(serverMax)}, ${mib(rssEnd)} at the end; SQL workers at most ${mib(workerMax)} each and ${mib(workersMax)} together (${workersEnd.length} at the end, ${workersEnd.map((r) => mib(r)).join(", ")}). At the end the data had grown to ${rows.toLocaleString("en-US")} rows in ${dataset.json?.objects?.length} Parquet objects, a corpus of ${Number(corpusEnd.json?.count).toLocaleString("en-US")} rows, ${ack.playbooks.toLocaleString("en-US")} playbooks, and a vector index of ${index.json?.count} items of which ${index.json?.pending} were still pending (acknowledged, not yet in the graph: searched exactly) with a ${mib(index.json?.bytes ?? 0)} log.
Server log: ${access5xx.length} access-log lines with a 5xx status; ${errorLines.length} error lines${errorLines.length ? `: ${errorSummary}` : ""}.

Faults:

${faultsTable(rec)}
${unexpectedLines.length ? `\nUnexpected errors (${unexpected.length}), by kind and answer:\n\n${unexpectedLines.join("\n")}\n` : ""}`;
  console.log(md);
  console.log(`\n10 s windows:\n\n${overTime(rec, 10_000, endMs)}`);
  writeSection("soak", md);
  const failed = checks.filter(([ok]) => !ok);
  log(failed.length ? `${failed.length} checks failed; server log kept in ${work}` : "all checks passed");
  if (failed.length) process.exitCode = 1;
  else rmSync(work, { recursive: true, force: true });
} finally {
  ctl.stop = true;
  if (!finished) {
    server.kill("SIGKILL");
    await server.exited;
    log(`aborted; server log kept in ${work}`);
  }
  rmSync(join(work, "data"), { recursive: true, force: true });
}
