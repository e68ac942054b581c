// The faults the soak (scripts/bench/soak.ts) injects while its load runs: a SQL worker killed
// with SIGKILL mid-statement, a statement past sql.max_statement_rss, the ingest spool filled (all
// of it, then all but the upload's size), and a slow and an aborted upload. Each registers what it
// did and which failed requests it explains; what it produced goes into its outcome lines.
import { closeSync, openSync, readdirSync, readFileSync, statfsSync, unlinkSync, writeSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { rssOf, sqlWorkers } from "../../test/support/workers.ts";
import type { Client, RowPool } from "./soak-client.ts";
import type { Acknowledged, LoadControl } from "./soak-load.ts";
import { type Fault, mib, type Recorder, type Sample } from "./soak-record.ts";

export interface FaultContext {
  client: Client;
  rec: Recorder;
  ctl: LoadControl;
  ack: Acknowledged;
  pool: RowPool;
  serverPid: number;
  /** The spool's tmpfs as this process sees it (through /proc/<pid>/root), or undefined when none could be mounted. */
  spool?: string;
  statementRssCap: number;
  /** The server's log lines that carry a request id. */
  logLines(rid: string): string[];
}

/** ≈3 s of one worker's CPU and almost no memory: a statement that is surely running when its worker dies. */
const BURN_SQL = "SELECT sum(hash(i)) FROM range(0, 400000000) t(i)";
/** A 16 GB list (DuckDB's memory_limit does not bound it): it grew the one-process server to 18.8 GiB. */
const HOG_SQL = "SELECT length(range(0, 2000000000))";
const FILLER = "soak-filler";
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const inFlightAt = (x: Sample, t: number) => x.start <= t && x.end >= t;

function register(c: FaultContext, name: string, what: string, explains: Fault["explains"]): Fault {
  const f: Fault = { name, what, start: c.rec.now(), end: c.rec.now(), explains, outcome: [] };
  c.rec.faults.push(f);
  return f;
}

/** A request that is not recorded as load: the soak's own checks. */
export async function ask(c: { client: Client }, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${c.client.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: c.client.auth, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state). */
function stat(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  } catch {
    return [];
  }
}
const cpuTicks = (pid: number) => Number(stat(pid)[11] ?? 0) + Number(stat(pid)[12] ?? 0);
/** Seconds since the process started (clock ticks are 100 a second on Linux). */
const ageS = (pid: number) => Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) - Number(stat(pid)[19] ?? 0) / 100;

/** SIGKILLs the SQL worker that burns the most CPU while a long statement runs. */
export async function killSqlWorker(c: FaultContext, name: string): Promise<void> {
  let killAt = Number.POSITIVE_INFINITY;
  const f = register(
    c,
    name,
    "SIGKILL of the SQL worker running a 3 s statement (the one burning CPU), 0.8 s into it",
    // The statements on the dead worker answer 503 + Retry-After; one sent to it in the moment before
    // the pool saw it die too. A corpus build reading pages through it fails.
    (x) =>
      ((["sql", "sql_heavy", "fault:kill"].includes(x.kind) && x.status === 503 && x.code === "unavailable" && x.retryAfter !== undefined) ||
        x.kind === "matrix_build") &&
      x.start <= killAt + 1000 &&
      x.end >= killAt,
  );
  const probe = c.client.call("fault:kill", "POST", "/v1/sql", { sql: BURN_SQL });
  // The burning worker is the one with the most CPU over half a second (other statements of the mix
  // take tens of milliseconds); a worker runs one statement at a time, so it is the probe's.
  // A worker younger than 2 s may still be starting (sandbox, warm-up: CPU too) and is not taken.
  await Bun.sleep(300);
  const pids = sqlWorkers(c.serverPid).filter((p) => ageS(p) > 2);
  const t0 = new Map(pids.map((p) => [p, cpuTicks(p)]));
  await Bun.sleep(500);
  const used = new Map(pids.map((p) => [p, cpuTicks(p) - t0.get(p)!]));
  const victim = pids.sort((a, b) => used.get(b)! - used.get(a)!)[0];
  if (victim === undefined) {
    f.outcome.push("no SQL worker found to kill");
    await probe;
    return;
  }
  const rss = rssOf(victim);
  const before = sqlWorkers(c.serverPid).length;
  killAt = c.rec.now();
  f.start = killAt;
  process.kill(victim, "SIGKILL");
  const res = await probe;
  const answered = c.rec.now() - killAt;
  const t1 = c.rec.now();
  const next = await c.client.call("fault:kill", "POST", "/v1/sql", { sql: "SELECT count(*) FROM workers" });
  const nextMs = c.rec.now() - t1;
  await Bun.sleep(2000);
  f.end = c.rec.now();
  const hit = c.rec.samples.filter((x) => x.kind !== "fault:kill" && inFlightAt(x, killAt) && x.status === 503 && x.kind.startsWith("sql"));
  f.outcome.push(
    `worker pid ${victim} (${mib(rss)}, ${used.get(victim)! * 10} ms of CPU in 0.5 s) killed; the 3 s statement answered ${res.status} ${res.json?.error?.code ?? ""}${res.retryAfter ? ` with Retry-After: ${res.retryAfter}` : " without Retry-After"} ${s(answered)} after the kill`,
    `the next statement answered ${next.status} in ${Math.round(nextMs)} ms; other statements answered 503 by the kill: ${hit.length}; SQL workers ${before} before, ${sqlWorkers(c.serverPid).length} 2 s after`,
  );
}

/** A statement past sql.max_statement_rss, with the server's memory before and after. */
export async function memoryProbe(c: FaultContext): Promise<void> {
  const f = register(
    c,
    "statement past its memory cap",
    `\`${HOG_SQL}\` with sql.max_statement_rss = ${mib(c.statementRssCap)}`,
    (x) => x.kind === "fault:memory" && x.status === 422 && x.code === "resource_exhausted",
  );
  const before = rssOf(c.serverPid);
  const t = c.rec.now();
  const res = await c.client.call("fault:memory", "POST", "/v1/sql", { sql: HOG_SQL });
  const took = c.rec.now() - t;
  const after = rssOf(c.serverPid);
  const t1 = c.rec.now();
  const next = await c.client.call("fault:memory-next", "POST", "/v1/sql", { sql: "SELECT count(*) FROM workers" });
  f.end = c.rec.now();
  const d = res.json?.error?.details;
  f.outcome.push(
    `${res.status} ${res.json?.error?.code ?? ""} naming ${d?.limit ?? "—"} after ${s(took)}, worker at ${d?.rss_bytes ? mib(d.rss_bytes) : "—"} when killed; server RSS ${mib(before)} → ${mib(after)}; the next statement answered ${next.status} in ${Math.round(f.end - t1)} ms`,
  );
}

/** Writes zeros into the spool until at most `leave` bytes are free; returns the bytes written. */
function fill(spool: string, leave: number): number {
  const path = join(spool, FILLER);
  const fd = openSync(path, "a");
  let written = 0;
  try {
    for (const chunk of [1 << 20, 4096]) {
      const buf = Buffer.alloc(chunk);
      for (;;) {
        const st = statfsSync(spool);
        const free = st.bavail * st.bsize;
        if (free - chunk < leave) break;
        try {
          written += writeSync(fd, buf);
        } catch {
          break; // ENOSPC: full
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

const freeBytes = (spool: string) => {
  const st = statfsSync(spool);
  return st.bavail * st.bsize;
};

/** Files under the spool other than the filler: what uploads left there. */
export function spoolFiles(spool: string): string[] {
  return (readdirSync(spool, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
    .filter((e) => e.isFile() && e.name !== FILLER)
    .map((e) => join(e.parentPath, e.name).slice(spool.length + 1));
}

const INGEST_FULL = (x: Sample) => [413, 503, 507].includes(x.status) && x.code !== "no_envelope";

/** Fills the spool's tmpfs completely for `holdMs` while appends go on, then frees it. */
export async function fillSpool(c: FaultContext, holdMs: number): Promise<void> {
  if (!c.spool) return;
  const spool = c.spool;
  const f = register(
    c,
    "ingest spool full",
    `the spool's ${mib(statfsSync(spool).blocks * statfsSync(spool).bsize)} tmpfs filled to 0 bytes free for ${s(holdMs)} while appends go on`,
    (x) => x.kind === "ingest" && x.start <= f.end && x.end >= f.start && INGEST_FULL(x),
  );
  f.end = Number.POSITIVE_INFINITY;
  let written = fill(spool, 0);
  const left = freeBytes(spool);
  // What an upload frees when it ends (its spool file, its Parquet) is taken again at once, or the
  // next upload would find room.
  const topUp = setInterval(() => {
    written += fill(spool, 0);
  }, 10);
  await Bun.sleep(holdMs);
  clearInterval(topUp);
  unlinkSync(join(spool, FILLER));
  f.end = c.rec.now();
  const during = c.rec.samples.filter((x) => x.kind === "ingest" && x.start <= f.end && x.end >= f.start);
  const byStatus = new Map<string, number>();
  for (const x of during) byStatus.set(`${x.status} ${x.code ?? ""}`.trim(), (byStatus.get(`${x.status} ${x.code ?? ""}`.trim()) ?? 0) + 1);
  const recoveredBy = () => c.rec.samples.find((x) => x.kind === "ingest" && x.end > f.end && x.status === 200);
  for (let i = 0; i < 100 && !recoveredBy(); i++) await Bun.sleep(100);
  const recovered = recoveredBy();
  const first500 = during.find((x) => x.status === 500);
  const logged = first500 ? c.logLines(first500.rid).find((l) => l.includes('"level":"error"')) : undefined;
  f.outcome.push(
    `${mib(written)} written, ${left} bytes left (topped up every 10 ms); appends answered during it: ${[...byStatus].map(([k, n]) => `${n} × ${k}`).join(", ") || "none"}`,
    recovered
      ? `the first append answered after the spool was freed: ${recovered.status}, ${s(recovered.end - f.end)} after`
      : "no append succeeded in the 10 s after the spool was freed",
  );
  if (logged) f.outcome.push(`server log for ${first500!.rid}: ${JSON.parse(logged).detail ?? JSON.parse(logged).error}`);
}

/** Leaves room for the upload but not for its Parquet: the conversion is what runs out of disk. */
export async function spoolNearlyFull(c: FaultContext): Promise<void> {
  if (!c.spool) return;
  const spool = c.spool;
  const f = register(
    c,
    "ingest spool nearly full",
    "the spool filled to leave the upload's size + 64 KiB, then a 3,000-row CSV uploaded to a new dataset (appends paused)",
    (x) => x.kind === "fault:spool-convert" && INGEST_FULL(x),
  );
  c.ctl.pauseIngest = true;
  while (!c.ctl.ingestIdle) await Bun.sleep(20);
  const probe = c.pool.take(3000);
  const bytes = Buffer.byteLength(probe.csv);
  fill(spool, Math.ceil(bytes / 4096) * 4096 + 64 * 1024);
  const left = freeBytes(spool);
  const res = await c.client.call("fault:spool-convert", "POST", "/v1/ingest/soak_spool_probe?mode=replace", undefined, {
    raw: probe.csv,
    contentType: "text/csv",
  });
  unlinkSync(join(spool, FILLER));
  c.ctl.pauseIngest = false;
  f.end = c.rec.now();
  const after = await ask(c, "/v1/catalog/datasets/soak_spool_probe");
  const leftovers = spoolFiles(spool);
  f.outcome.push(
    `${(bytes / 1024 / 1024).toFixed(2)} MiB upload with ${(left / 1024 / 1024).toFixed(2)} MiB free: ${res.status} ${res.json?.error?.code ?? res.json?.result ?? ""}${res.json?.error ? ` "${res.json.error.message}"` : ""}`,
    `afterwards the dataset ${after.status === 404 ? "does not exist" : `answers ${after.status}`}; spool files left: ${leftovers.length}`,
  );
  if (after.status === 200) await c.client.call("fault:cleanup", "DELETE", "/v1/catalog/datasets/soak_spool_probe");
}

/** An append whose body trickles in over ≈6 s: it must be answered like any other. */
export async function slowUpload(c: FaultContext): Promise<void> {
  const f = register(c, "slow upload", "a 400-row append sent in 16 KiB pieces every 250 ms (chunked)", () => false);
  const slice = c.pool.take(400);
  const bytes = new TextEncoder().encode(slice.csv);
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (at >= bytes.length) return ctrl.close();
      await Bun.sleep(250);
      ctrl.enqueue(bytes.subarray(at, at + 16 * 1024));
      at += 16 * 1024;
    },
  });
  const t = c.rec.now();
  const res = await c.client.call("fault:slow-upload", "POST", "/v1/ingest/workers?mode=append", undefined, { raw: body, contentType: "text/csv" });
  if (res.status === 200 && res.json?.result === "appended") {
    c.ack.appendedRows += res.json.rows;
    c.ack.appends++;
  }
  f.end = c.rec.now();
  f.outcome.push(
    `${(bytes.length / 1024).toFixed(0)} KiB over ${s(f.end - t)}: ${res.status} ${res.json?.result ?? res.json?.error?.code ?? ""} (${res.json?.rows ?? 0} rows)`,
  );
}

/** An upload that declares 8 MiB, sends 1 MiB over 2 s and drops the connection. */
export async function abortedUpload(c: FaultContext): Promise<void> {
  const f = register(c, "aborted upload", "POST declaring Content-Length 8 MiB to a new dataset, 1 MiB sent over 2 s, then the socket destroyed", () => false);
  const url = new URL(c.client.url);
  const rid = "soak-aborted-upload";
  const chunk = Buffer.from(c.pool.take(1500).csv).subarray(0, 64 * 1024);
  await new Promise<void>((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname, async () => {
      sock.write(
        `POST /v1/ingest/soak_aborted?mode=replace HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: ${c.client.auth}\r\nX-Request-Id: ${rid}\r\nContent-Type: text/csv\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n`,
      );
      for (let i = 0; i < 16; i++) {
        sock.write(chunk);
        await Bun.sleep(125);
      }
      sock.destroy();
      resolve();
    });
    sock.on("error", reject);
  });
  await Bun.sleep(1500);
  f.end = c.rec.now();
  const after = await ask(c, "/v1/catalog/datasets/soak_aborted");
  const lines = c.logLines(rid).map((l) => JSON.parse(l) as { level: string; msg: string; status?: number; detail?: string; error?: string });
  const logged = lines
    .map((l) => (l.msg === "request" ? `access log status ${l.status}` : `${l.level} "${l.msg}"${l.detail ? ` (${l.error}: ${l.detail})` : ""}`))
    .join("; ");
  f.outcome.push(
    `afterwards the dataset ${after.status === 404 ? "does not exist" : `answers ${after.status}`}; server log: ${logged || "nothing for its request id"}`,
  );
}
