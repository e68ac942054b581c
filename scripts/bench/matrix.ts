// Matrix benchmark: a corpus build of --rows staffing workers on the full server (a child
// `bun src/main.ts`, default hash embedder) against the raw cost of the same work in this process
// (the embedder alone, then hnswlib-node inserting the same vectors directly); then search
// latency over HTTP across two corpora of --rows with --playbooks playbooks active, in each search
// mode (hybrid, the default; vector; lexical), with and without a filter.
//
//   bun scripts/bench/matrix.ts [--rows 100000] [--playbooks 1000] [--queries 300]
import { readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HierarchicalNSW } from "hnswlib-node";
import { hashEmbed } from "../../src/embed/hash-embedder.ts";
import { type Field, mixFields, renderWithSpans } from "../../src/matrix/fields.ts";
import { renderText } from "../../src/matrix/rows.ts";
import { type Child, startChild } from "../../test/support/child.ts";
import { tempDir } from "../../test/support/tmp.ts";
import { log, machineLine, percentile, writeSection } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    playbooks: { type: "string", default: "1000" },
    queries: { type: "string", default: "300" },
  },
});
const ROWS = Number(args.rows);
const PLAYBOOKS = Number(args.playbooks);
const QUERIES = Number(args.queries);
const DIM = 384;
const WORKERS_TEMPLATE = "{primary_skill} in {city}, {state}: {resume_text}";
const CANDIDATES_TEMPLATE = "{desired_role} in {city}, {state}. Skills: {skills}. {notes}";

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
const peakRss = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+)/)![1]) * 1024;

const work = tempDir("lh-bench-matrix-");
const gen = async (kind: string) => {
  const out = join(work, `${kind}.csv`);
  const p = Bun.spawn(["bun", join(import.meta.dir, "..", "datagen", "gen_staffing.ts"), "--rows", String(ROWS), "--kind", kind, "--out", out], {
    stderr: "ignore",
  });
  if ((await p.exited) !== 0) throw new Error(`datagen ${kind} failed`);
  return out;
};

// Other work on these shared 2-core machines moves every figure below; the load says how much.
const loadBefore = loadavg()[0]!;
let child: Child | undefined;
try {
  log(`generating ${fmt(ROWS)} workers and candidates`);
  const workersCsv = await gen("workers");
  const candidatesCsv = await gen("candidates");
  // The corpora embed with the hash model the raw run below uses (new corpora would otherwise take
  // embed.index_model "auto", the words model when its table is installed), so the two compare.
  child = await startChild({ LH_STORAGE_FS_ROOT: join(work, "data"), LH_EMBED_CACHE_SIZE: "0", LH_EMBED_INDEX_MODEL: `hash-${DIM}` });
  const base = child.url;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const out: any = await res.json();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(out)}`);
    return out;
  };
  const get = async (path: string): Promise<any> => (await fetch(`${base}${path}`)).json();
  for (const [name, file] of [
    ["workers", workersCsv],
    ["candidates", candidatesCsv],
  ] as const) {
    const res = await fetch(`${base}/v1/ingest/${name}?mode=replace`, { method: "POST", headers: { "content-type": "text/csv" }, body: Bun.file(file) });
    if (!res.ok) throw new Error(`ingest ${name}: ${await res.text()}`);
  }

  /** Builds a corpus; returns seconds until every row was searchable and until the graph held every row. */
  const build = async (spec: Record<string, unknown>) => {
    const t0 = performance.now();
    await post("/v1/matrix/corpora", spec);
    let st: any;
    do {
      await Bun.sleep(50);
      st = await get(`/v1/matrix/corpora/${spec.name}`);
    } while (st.state === "building");
    if (st.state !== "ready") throw new Error(`build failed: ${st.error}`);
    const searchable = (performance.now() - t0) / 1000;
    while ((await get(`/v1/vectors/indexes/matrix-${spec.name}`)).pending > 0) await Bun.sleep(200);
    return { searchable, indexed: (performance.now() - t0) / 1000, count: st.count as number };
  };

  log("building the workers corpus");
  const workers = await build({
    name: "workers",
    dataset: "workers",
    id_column: "worker_id",
    template: WORKERS_TEMPLATE,
    metadata: ["primary_skill", "city", "state", "hourly_rate", "available"],
  });
  const buildRss = peakRss(child.proc.pid);
  log(`workers: searchable after ${workers.searchable.toFixed(1)} s, indexed after ${workers.indexed.toFixed(1)} s`);
  log("building the candidates corpus");
  const candidates = await build({
    name: "candidates",
    dataset: "candidates",
    id_column: "candidate_id",
    template: CANDIDATES_TEMPLATE,
    metadata: ["desired_role", "city", "state", "expected_rate"],
  });
  log(`candidates: searchable after ${candidates.searchable.toFixed(1)} s, indexed after ${candidates.indexed.toFixed(1)} s`);

  // The same rows, read back through SQL, for the raw comparison: embedded the way the server
  // embeds them — a fielded corpus (src/matrix/fields.ts) as the weighted mix of its fields'
  // vectors, each distinct value embedded once; a corpus without fields as its whole text.
  const fields: Field[] | undefined = (await get("/v1/matrix/corpora/workers")).fields;
  const docs: { text: string; values: string[] }[] = [];
  let after: number | null = null;
  for (;;) {
    const where: string = after === null ? "" : `WHERE worker_id > ${after}`;
    const page: any = await post("/v1/sql", {
      sql: `SELECT worker_id, primary_skill, city, state, resume_text FROM workers ${where} ORDER BY worker_id LIMIT 10000`,
    });
    if (page.rows.length === 0) break;
    for (const r of page.rows) {
      const row = { primary_skill: r[1], city: r[2], state: r[3], resume_text: r[4] };
      docs.push(
        fields
          ? { text: "", values: renderWithSpans({ template: WORKERS_TEMPLATE }, fields, row).values }
          : { text: renderText({ template: WORKERS_TEMPLATE }, row), values: [] },
      );
    }
    after = Number(page.rows[page.rows.length - 1][0]);
  }

  log(`${fmt(PLAYBOOKS)} playbooks`);
  const skills = ["forklift operator", "welder", "CNC machinist", "electrician", "warehouse associate", "CNA", "truck driver", "plumber"];
  const cities = ["Chicago IL", "Joliet IL", "Houston TX", "Detroit MI", "Phoenix AZ", "Atlanta GA"];
  const sample = await post("/v1/matrix/search", { query: "worker", corpora: ["workers"], k: 1000 });
  const pbs = Array.from({ length: PLAYBOOKS }, (_, i) => ({
    query: `${skills[i % skills.length]} near ${cities[i % cities.length]}`,
    corpus: "workers",
    id: sample.results[i % sample.results.length].id,
    outcome: i % 4 === 0 ? "failure" : "success",
  }));
  await post("/v1/matrix/playbooks/bulk", { playbooks: pbs });

  const parts = { embed_ms: 0, search_ms: 0, lexical_ms: 0, fuse_ms: 0, total_ms: 0 };
  let gates = 0;
  /** Sequential searches after 20 warm-up ones; returns sorted round-trip latencies. */
  const measure = async (mode: "hybrid" | "vector" | "lexical", withFilter: boolean, record = false) => {
    const out: number[] = [];
    for (let i = -20; i < QUERIES; i++) {
      const j = Math.abs(i);
      const q: Record<string, unknown> = { query: `${skills[j % skills.length]} available near ${cities[(j * 5) % cities.length]}`, k: 10, mode };
      if (withFilter) q.filter = { state: cities[j % cities.length]!.slice(-2) };
      const t = performance.now();
      const res = await post("/v1/matrix/search", q);
      const dt = performance.now() - t;
      if (i < 0) continue;
      out.push(dt);
      if (record) {
        for (const key of Object.keys(parts) as (keyof typeof parts)[]) parts[key] += res.timings[key] / QUERIES;
        if (res.gate.tier === "small") gates++;
      }
    }
    return out.sort((a, b) => a - b);
  };
  // Three rounds of every case, interleaved, so a burst of load on this shared machine lands on
  // all of them alike; each case reports the median round's p50 and p95 and the spread of its p50s.
  const ROUNDS = 3;
  const cases = [
    { name: "hybrid, filter", mode: "hybrid", filter: true },
    { name: "vector, filter", mode: "vector", filter: true },
    { name: "lexical, filter", mode: "lexical", filter: true },
    { name: "hybrid, no filter", mode: "hybrid", filter: false },
    { name: "vector, no filter", mode: "vector", filter: false },
  ] as const;
  const rounds = new Map<string, { p50: number; p95: number; max: number }[]>(cases.map((c) => [c.name, []]));
  const loads: number[] = [];
  log(`search latency: ${ROUNDS} rounds of ${QUERIES} queries per case (${cases.map((c) => c.name).join("; ")})`);
  for (let r = 0; r < ROUNDS; r++) {
    loads.push(loadavg()[0]!);
    for (const c of cases) {
      const lat = await measure(c.mode, c.filter, r === 0 && c.name === "hybrid, filter");
      rounds.get(c.name)!.push({ p50: percentile(lat, 50), p95: percentile(lat, 95), max: lat[lat.length - 1]! });
    }
  }
  const summary = cases.map((c) => {
    const rs = [...rounds.get(c.name)!].sort((a, b) => a.p50 - b.p50);
    const med = rs[Math.floor(rs.length / 2)]!;
    return { name: c.name, p50: med.p50, p95: med.p95, lo: rs[0]!.p50, hi: rs[rs.length - 1]!.p50 };
  });
  const latencies = summary[0]!;
  const serverPeak = peakRss(child.proc.pid);
  child.proc.kill("SIGTERM");
  await child.proc.exited;
  child = undefined;

  log(`raw: embedding ${fmt(docs.length)} rows, then hnswlib-node inserts`);
  let t = performance.now();
  const byValue = new Map<string, readonly number[]>();
  const embedOnce = (v: string) => {
    let vec = byValue.get(v);
    if (!vec) {
      vec = hashEmbed(v, DIM);
      byValue.set(v, vec);
    }
    return vec;
  };
  const vectors = docs.map((d) => (fields ? mixFields(d.values, fields, embedOnce) : hashEmbed(d.text, DIM)));
  const embedS = (performance.now() - t) / 1000;
  t = performance.now();
  const index = new HierarchicalNSW("cosine", DIM);
  index.initIndex({ maxElements: vectors.length, m: 16, efConstruction: 200 });
  for (const [i, vec] of vectors.entries()) index.addPoint(vec, i);
  const insertS = (performance.now() - t) / 1000;
  const rawS = embedS + insertS;
  log(`raw: embed ${embedS.toFixed(1)} s, insert ${insertS.toFixed(1)} s`);

  const md = `## Matrix: corpus build and multi-corpus search

\`bun scripts/bench/matrix.ts --rows ${ROWS} --playbooks ${PLAYBOOKS} --queries ${QUERIES}\` — ${machineLine()}. Server in a child process, corpora embedded with the hash embedder (\`embed.index_model = "hash-${DIM}"\`, embedding cache off), vector defaults (M=16, ef_construction=200, ef_search=64); the raw run embeds the same ${fmt(docs.length)} rows with the same embedder the way the server does (${fields ? `each field's value once, the row's vector the weighted mix of its fields' — ${fields.map((f) => `${f.column} ${f.weight}`).join(", ")}` : "each row's whole text"}) and inserts them into hnswlib-node directly, in one process, after the server stopped. Load average (1 min) before the run ${loadBefore.toFixed(2)}, after it ${loadavg()[0]!.toFixed(2)}: the run itself keeps one to two cores busy, so a load well above 2 means other work shared the machine and slowed every figure here.

| build of ${fmt(workers.count)} workers | seconds | rows/s | target |
|---|---:|---:|---|
| until every row is searchable (build state ready) | ${workers.searchable.toFixed(1)} | ${fmt(workers.count / workers.searchable)} | ≥ 5,000 rows/s |
| until the HNSW graph holds every row | ${workers.indexed.toFixed(1)} | ${fmt(workers.count / workers.indexed)} | |
| raw: embedder alone | ${embedS.toFixed(1)} | ${fmt(docs.length / embedS)} | |
| raw: hnswlib-node inserts alone | ${insertS.toFixed(1)} | ${fmt(docs.length / insertS)} | |
| raw: embed + insert | ${rawS.toFixed(1)} | ${fmt(docs.length / rawS)} | |
| **overhead: fully indexed / raw** | **${(workers.indexed / rawS).toFixed(2)}×** | | ≤ 1.2× |

Candidates corpus (${fmt(candidates.count)} rows, shorter texts): searchable after ${candidates.searchable.toFixed(1)} s (${fmt(candidates.count / candidates.searchable)} rows/s), indexed after ${candidates.indexed.toFixed(1)} s.
Server peak RSS: ${mib(buildRss)} after the first build, ${mib(serverPeak)} at the end (two indexed corpora, ${fmt(PLAYBOOKS)} playbooks).

Search over HTTP across both corpora (k=10, per_corpus_k=50, ${fmt(PLAYBOOKS)} playbooks active, sequential requests after 20 warm-up; the filter is on \`state\`). ${ROUNDS} rounds of ${QUERIES} queries per case, interleaved; the median round's p50 and p95, and the lowest and highest p50 of the rounds (load average at the start of each round: ${loads.map((l) => l.toFixed(2)).join(", ")}):

| search | p50 ms | p95 ms | p50 over the rounds | target |
|---|---:|---:|---|---|
${summary.map((c) => `| ${c.name === "hybrid, filter" ? "**hybrid, filter** (the default mode)" : c.name} | ${c.p50.toFixed(2)} | ${c.p95.toFixed(2)} | ${c.lo.toFixed(2)}–${c.hi.toFixed(2)} | ${c.name.endsWith(", filter") ? "p50 ≤ 10, p95 ≤ 25" : ""} |`).join("\n")}

Hybrid with the filter (p50 ${latencies.p50.toFixed(2)} ms), inside the server on average over the first round: embed ${parts.embed_ms.toFixed(2)} ms, vector searches ${parts.search_ms.toFixed(2)} ms, BM25 searches ${parts.lexical_ms.toFixed(2)} ms, hybrid merge + fusion + boosts + cuts ${parts.fuse_ms.toFixed(2)} ms, total ${parts.total_ms.toFixed(2)} ms; the gate sent ${gates} of ${QUERIES} to the small model.`;
  writeSection("matrix", md);
  console.log(md);
} finally {
  if (child) {
    child.proc.kill("SIGKILL");
    await child.proc.exited;
  }
  // The generated CSVs and the server's data: ≈600 MiB per run at 100K rows.
  rmSync(work, { recursive: true, force: true });
}
