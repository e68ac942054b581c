// The soak's load (scripts/bench/soak.ts): loops of mixed requests — SQL, appends, vector upserts
// and searches, matrix searches with playbook records, corpus rebuilds, health probes — until told
// to stop, with what the server acknowledged kept for the checks at the end.
import { rng } from "../../test/support/random.ts";
import type { Answer, Client, RowPool } from "./soak-client.ts";
import type { Recorder } from "./soak-record.ts";

export const STATES = ["IL", "TX", "CA", "NY", "OH", "FL", "MI", "PA", "GA", "MA"];
const SKILLS = ["forklift operator", "welder", "CNC machinist", "electrician", "warehouse associate", "CNA", "CDL driver", "plumber"];
const CITIES = ["Chicago", "Houston", "Detroit", "Phoenix", "Atlanta", "Boston", "Dallas", "Columbus"];
const SHIFTS = ["day", "swing", "night"];
/** Worker ids of the generated file start here (scripts/datagen/gen_staffing.ts). */
const FIRST_WORKER_ID = 100_000;

export const VECTOR_INDEX = "soak_vectors";
export const VECTOR_DIM = 64;
/** Upserts pick ids from this many, so the index stops growing once they are all used. */
const VECTOR_IDS = 20_000;

/** A corpus over the workers dataset; posting it again rebuilds it incrementally. */
export const CORPUS = {
  name: "workers",
  dataset: "workers",
  id_column: "worker_id",
  template: "{primary_skill} in {city}, {state}: {resume_text}",
  metadata: ["primary_skill", "city", "state", "hourly_rate", "available"],
};

/** The heavy-but-legal statement of the mix: a self-join, ≈30 ms at 20,000 rows, growing with appends. */
export const HEAVY_SQL =
  "SELECT count(*) FROM workers a JOIN workers b ON a.state = b.state AND a.primary_skill = b.primary_skill WHERE a.hourly_rate < b.hourly_rate";

export interface LoadControl {
  stop: boolean;
  /** Set by a fault that needs the spool to itself; the append loop idles while it is set. */
  pauseIngest: boolean;
  ingestIdle: boolean;
}

/** What the server acknowledged, checked against its state at the end. */
export interface Acknowledged {
  appendedRows: number;
  appends: number;
  unchanged: number;
  vectorIds: Set<string>;
  playbooks: number;
  builds: { ready: number; failed: string[] };
  degraded: { t: number; detail: string }[];
}

export function acknowledged(): Acknowledged {
  return { appendedRows: 0, appends: 0, unchanged: 0, vectorIds: new Set(), playbooks: 0, builds: { ready: 0, failed: [] }, degraded: [] };
}

export interface LoadDeps {
  client: Client;
  rec: Recorder;
  ctl: LoadControl;
  ack: Acknowledged;
  pool: RowPool;
  /** Rows in the dataset (seed + acknowledged appends), for point lookups. */
  maxWorkerId: () => number;
  rebuildEveryMs: number;
}

const think = (r: () => number, lo: number, hi: number) => Bun.sleep(lo + r() * (hi - lo));

async function sqlLoop(d: LoadDeps, seed: number): Promise<void> {
  const r = rng(seed);
  while (!d.ctl.stop) {
    const x = r();
    const state = STATES[Math.floor(r() * STATES.length)]!;
    if (x < 0.1) await d.client.call("sql_heavy", "POST", "/v1/sql", { sql: HEAVY_SQL });
    else if (x < 0.35)
      await d.client.call("sql", "POST", "/v1/sql", {
        sql: "SELECT worker_id, first_name, last_name, city, hourly_rate FROM workers WHERE worker_id = ?",
        params: [FIRST_WORKER_ID + Math.floor(r() * d.maxWorkerId())],
      });
    else if (x < 0.5) await d.client.call("sql", "POST", "/v1/sql", { sql: "SELECT count(*) FROM workers" });
    else if (x < 0.7)
      await d.client.call("sql", "POST", "/v1/sql", {
        sql: "SELECT state, count(*) AS n, avg(hourly_rate) AS avg_rate FROM workers GROUP BY state ORDER BY n DESC",
      });
    else if (x < 0.9)
      await d.client.call("sql", "POST", "/v1/sql", {
        sql: "SELECT worker_id, first_name, last_name, hourly_rate FROM workers WHERE state = ? AND available ORDER BY hourly_rate DESC LIMIT 10",
        params: [state],
      });
    else
      await d.client.call("sql", "POST", "/v1/sql", { sql: "SELECT count(*) FROM workers WHERE regexp_matches(resume_text, 'forklift|welder') AND available" });
    await think(r, 5, 50);
  }
}

async function ingestLoop(d: LoadDeps, seed: number): Promise<void> {
  const r = rng(seed);
  while (!d.ctl.stop) {
    if (d.ctl.pauseIngest) {
      d.ctl.ingestIdle = true;
      await Bun.sleep(50);
      continue;
    }
    d.ctl.ingestIdle = false;
    // 50-150 rows: a slice that small still infers the dataset's types (a single row may not: a
    // zip without a leading zero reads as a number, which the append refuses as a schema change).
    const slice = d.pool.take(50 + Math.floor(r() * 101));
    if (slice.rows === 0) break;
    const res = await d.client.call("ingest", "POST", "/v1/ingest/workers?mode=append", undefined, { raw: slice.csv, contentType: "text/csv" });
    if (res.status === 200 && res.json?.result === "appended") {
      d.ack.appendedRows += res.json.rows as number;
      d.ack.appends++;
    } else if (res.status === 200) d.ack.unchanged++;
    d.ctl.ingestIdle = true;
    await think(r, 300, 700);
  }
  d.ctl.ingestIdle = true;
}

function unitVector(r: () => number): number[] {
  const v = Array.from({ length: VECTOR_DIM }, () => r() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

async function vectorLoop(d: LoadDeps, seed: number): Promise<void> {
  const r = rng(seed);
  for (let i = 0; !d.ctl.stop; i++) {
    if (i % 4 === 0) {
      // Distinct ids: a batch naming one twice is refused whole (400).
      const ids = new Set<string>();
      while (ids.size < 100) ids.add(`v${Math.floor(r() * VECTOR_IDS)}`);
      const items = [...ids].map((id) => ({
        id,
        vector: unitVector(r),
        metadata: { state: STATES[Math.floor(r() * STATES.length)], rate: 15 + Math.floor(r() * 30), shift: SHIFTS[Math.floor(r() * 3)] },
      }));
      const res = await d.client.call("vector_upsert", "POST", `/v1/vectors/indexes/${VECTOR_INDEX}/upsert`, { items });
      if (res.status === 200) for (const it of items) d.ack.vectorIds.add(it.id);
    } else {
      const state = STATES[Math.floor(r() * STATES.length)]!;
      const filter = i % 2 === 0 ? { state, rate: { $lte: 35 } } : `state = ${state} and shift in (day, swing)`;
      await d.client.call("vector_search", "POST", `/v1/vectors/indexes/${VECTOR_INDEX}/search`, { vector: unitVector(r), k: 10, filter });
    }
    await think(r, 5, 30);
  }
}

async function matrixLoop(d: LoadDeps, seed: number): Promise<void> {
  const r = rng(seed);
  for (let i = 0; !d.ctl.stop; i++) {
    const query = `${SKILLS[Math.floor(r() * SKILLS.length)]} available near ${CITIES[Math.floor(r() * CITIES.length)]}`;
    const res = await d.client.call("matrix_search", "POST", "/v1/matrix/search", {
      query,
      corpora: [CORPUS.name],
      k: 10,
      filter: { state: STATES[Math.floor(r() * STATES.length)] },
    });
    const top = res.json?.results?.[0];
    if (i % 4 === 0 && res.status === 200 && top) {
      const pb = await d.client.call("playbook", "POST", "/v1/matrix/playbooks", {
        query,
        corpus: top.corpus,
        id: top.id,
        outcome: r() < 0.75 ? "success" : "failure",
      });
      if (pb.status === 201) d.ack.playbooks++;
    }
    await think(r, 5, 40);
  }
}

/** Posts the corpus again (an incremental rebuild picks up the appended rows) and waits for its end. */
async function rebuildLoop(d: LoadDeps): Promise<void> {
  let next = d.rec.now() + d.rebuildEveryMs;
  while (!d.ctl.stop) {
    if (d.rec.now() < next) {
      await Bun.sleep(100);
      continue;
    }
    next = d.rec.now() + d.rebuildEveryMs;
    const start = d.rec.now();
    const res = await d.client.call("matrix_rebuild", "POST", "/v1/matrix/corpora", CORPUS);
    if (res.status !== 202 && res.status !== 201) continue;
    let st: Answer;
    do {
      await Bun.sleep(200);
      st = await d.client.call("corpus_status", "GET", `/v1/matrix/corpora/${CORPUS.name}`);
    } while (st.json?.state === "building");
    // The build's outcome, as a request of its own: a failed build is no HTTP error, but it is one.
    const ok = st.json?.state === "ready";
    if (ok) d.ack.builds.ready++;
    else d.ack.builds.failed.push(String(st.json?.error ?? st.json?.state));
    d.rec.add({
      kind: "matrix_build",
      start,
      end: d.rec.now(),
      status: ok ? 200 : 0,
      code: ok ? undefined : "build_failed",
      error: ok ? undefined : String(st.json?.error),
      rid: "build",
    });
  }
}

async function healthLoop(d: LoadDeps): Promise<void> {
  while (!d.ctl.stop) {
    const res = await d.client.call("health", "GET", "/health");
    if (res.status === 200 && res.json?.status !== "ok") d.ack.degraded.push({ t: d.rec.now(), detail: JSON.stringify(res.json).slice(0, 600) });
    await Bun.sleep(2000);
  }
}

/** Runs every loop until `ctl.stop`; resolves when all have ended. */
export function runLoad(d: LoadDeps, shape: { sql: number; vector: number; matrix: number }): Promise<unknown> {
  const loops: Promise<void>[] = [ingestLoop(d, 1), rebuildLoop(d), healthLoop(d)];
  for (let i = 0; i < shape.sql; i++) loops.push(sqlLoop(d, 100 + i));
  for (let i = 0; i < shape.vector; i++) loops.push(vectorLoop(d, 200 + i));
  for (let i = 0; i < shape.matrix; i++) loops.push(matrixLoop(d, 300 + i));
  return Promise.all(loops);
}
