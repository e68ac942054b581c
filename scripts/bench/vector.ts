// Vector benchmark: the full server (a child `bun src/main.ts`, durable HTTP upserts, background
// indexing, search over HTTP) against hnswlib driven directly in this process (the ceiling).
//
//   bun scripts/bench/vector.ts [--n 100000] [--dim 768] [--queries 1000] [--truth 200] [--batch 1000]
//   bun scripts/bench/vector.ts --catchup [--n 100000] [--dim 384]   (issue 17: prints one run's figures)
//   bun scripts/bench/vector.ts --scan [--n 100000] [--dim 384]      (the pending scan alone, 3 rounds)
//
// --catchup, in one process: N durable upserts acknowledged, then searches while all N are
// pending (the int8 scan), then the graph worker's catch-up rate against raw single-thread
// hnswlib inserts of the same vectors in the same run.
//
// Recall is measured against exact brute force on the first --truth queries (brute force in
// TypeScript costs ≈150 ms per query at 100K × 768); latency on all --queries.
import { readFileSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { PendingCodes, rescoreCount } from "../../src/vector/codes.ts";
import { Graph } from "../../src/vector/hnsw.ts";
import { VectorSlab } from "../../src/vector/slab.ts";
import { TopK } from "../../src/vector/topk.ts";
import { silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { VectorIndexes } from "../../src/vector/service.ts";
import { vectorSection } from "../../src/vector/config.ts";
import * as v from "valibot";
import { type Child, startChild } from "../../test/support/child.ts";
import { tempDir } from "../../test/support/tmp.ts";
import { clusteredSplit, exactKnn } from "../../test/support/vectors.ts";
import { log, machineLine, percentile, writeSection } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "100000" },
    dim: { type: "string", default: "768" },
    queries: { type: "string", default: "1000" },
    truth: { type: "string", default: "200" },
    batch: { type: "string", default: "1000" },
    section: { type: "string", default: "vector" },
    catchup: { type: "boolean", default: false },
    scan: { type: "boolean", default: false },
  },
});
const N = Number(args.n);
const DIM = Number(args.dim);
const Q = Number(args.queries);
const TRUTH = Math.min(Q, Number(args.truth));
const BATCH = Number(args.batch);
const K = 10;
const M = 16;
const EF_C = 200;
const EF = 64;
const BUCKETS = 100;

const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
const rss = () => process.memoryUsage().rss;

function procStatus(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(field));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

function recallOf(got: string[][], truth: number[][]): number {
  let hit = 0;
  truth.forEach((want, q) => {
    const w = new Set(want.map((i) => `v${i}`));
    hit += got[q]!.filter((id) => w.has(id)).length;
  });
  return hit / (truth.length * K);
}

function latencies(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
}

if (args.scan) {
  // The exact scan of N pending items, float32 over the slab against the int8 shortlist re-scored
  // in float32 (what a search does while the graph lags), and whether their top k agree.
  const { data, queries } = clusteredSplit(N, 100, DIM, { clusters: 100, seed: 42 });
  const slab = new VectorSlab(DIM, N);
  const codes = new PendingCodes(DIM);
  const pending = new Map<number, number>();
  for (let l = 0; l < N; l++) {
    const vec = data.subarray(l * DIM, (l + 1) * DIM);
    slab.set(l, vec);
    codes.set(l, vec);
    pending.set(l, 1);
  }
  const top = (labels: number[], query: Float32Array) => {
    const t = new TopK(K);
    slab.score("cosine", query, labels, (i, d) => t.offer(labels[i]!, d));
    return t
      .sorted()
      .map((x) => x.label)
      .join();
  };
  for (let round = 0; round < 3; round++) {
    const f32: number[] = [];
    const i8: number[] = [];
    let same = 0;
    for (let q = 0; q < 100; q++) {
      const query = queries.subarray(q * DIM, (q + 1) * DIM);
      let t = performance.now();
      const full = top([...pending.keys()], query);
      f32.push(performance.now() - t);
      t = performance.now();
      const short = top(codes.shortlist("cosine", query, [...pending.keys()], rescoreCount(K)), query);
      i8.push(performance.now() - t);
      if (short === full) same++;
    }
    const p = (a: number[], x: number) =>
      percentile(
        [...a].sort((m, n) => m - n),
        x,
      ).toFixed(2);
    console.log(
      JSON.stringify({
        load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
        float32_p50: p(f32, 50),
        float32_p95: p(f32, 95),
        int8_p50: p(i8, 50),
        int8_p95: p(i8, 95),
        same_top: same,
      }),
    );
  }
  process.exit(0);
}

if (args.catchup) {
  const loadAvg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const load0 = loadAvg();
  const { data, queries } = clusteredSplit(N, 200, DIM, { clusters: 100, seed: 42 });
  const root = tempDir("lh-bench-catchup-");
  const svc = await VectorIndexes.open(await FsObjectStore.open(root), v.parse(vectorSection, {}), `${root}/wal`, silentLogger);
  await svc.createIndex({ name: "c", dim: DIM, m: M, ef_construction: EF_C });
  const items = Array.from({ length: N }, (_, i) => ({ id: `v${i}`, vector: Array.from(data.subarray(i * DIM, (i + 1) * DIM)) }));
  let t = performance.now();
  for (let b = 0; b < N; b += BATCH) svc.upsert("c", items.slice(b, b + BATCH));
  const ackS = (performance.now() - t) / 1000;
  const start = t;
  // Searches while (nearly) everything is pending: one at a time, each waiting for the last.
  const lat: number[] = [];
  const scanned: number[] = [];
  for (let q = 0; q < 200; q++) {
    const s0 = performance.now();
    const res = await svc.search("c", { vector: Array.from(queries.subarray(q * DIM, (q + 1) * DIM)), k: K });
    lat.push(performance.now() - s0);
    scanned.push(res.pending_scanned);
  }
  const sorted = [...lat].sort((a, b) => a - b);
  await svc.waitIndexed("c");
  const catchupS = (performance.now() - start) / 1000;
  await svc.close();
  rmSync(root, { recursive: true, force: true });
  const graph = Graph.create({ dim: DIM, metric: "cosine", m: M, efConstruction: EF_C }, N);
  t = performance.now();
  for (let i = 0; i < N; i++) graph.add(i, data.subarray(i * DIM, (i + 1) * DIM));
  const rawS = (performance.now() - t) / 1000;
  const out = {
    n: N,
    dim: DIM,
    load_before: load0,
    load_after: loadAvg(),
    ack_s: +ackS.toFixed(2),
    search_p50_ms: +percentile(sorted, 50).toFixed(2),
    search_p95_ms: +percentile(sorted, 95).toFixed(2),
    pending_scanned_first: scanned[0],
    pending_scanned_last: scanned.at(-1),
    catchup_rate: Math.round(N / catchupS),
    raw_rate: Math.round(N / rawS),
    ratio: +(rawS / catchupS).toFixed(3),
  };
  console.log(JSON.stringify(out));
  process.exit(0);
}

const loadAvg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const loadBefore = loadAvg();

// ---- data ----
log(`generating ${N} × ${DIM} clustered vectors and ${Q} queries`);
const { data, queries } = clusteredSplit(N, Q, DIM, { clusters: 100, seed: 42 });
const qvec = (q: number) => queries.subarray(q * DIM, (q + 1) * DIM);
log(`exact ground truth for ${TRUTH} queries`);
let t0 = performance.now();
const truth = Array.from({ length: TRUTH }, (_, q) => exactKnn(data, DIM, qvec(q), K));
const exactMs = (performance.now() - t0) / TRUTH;
const bucketOf = (i: number) => i % BUCKETS;
const truthFiltered = Array.from({ length: Math.min(TRUTH, 50) }, (_, q) => exactKnn(data, DIM, qvec(q), K, (i) => bucketOf(i) === q % BUCKETS));

// ---- raw ceiling: the hnswlib graph, no log, no HTTP ----
log("raw: building the hnswlib graph directly");
const rssBeforeRaw = rss();
let raw: Graph | null = Graph.create({ dim: DIM, metric: "cosine", m: M, efConstruction: EF_C }, N);
t0 = performance.now();
for (let i = 0; i < N; i++) raw.add(i, data.subarray(i * DIM, (i + 1) * DIM));
const rawBuildS = (performance.now() - t0) / 1000;
const rawRss = rss() - rssBeforeRaw;
const rawPeakRss = procStatus(process.pid, "VmHWM");
const rawRate = N / rawBuildS;
log(`raw build ${rawBuildS.toFixed(1)} s (${fmt(rawRate)}/s)`);
const rawSearch = (ef: number) => {
  const lat: number[] = [];
  const got: string[][] = [];
  for (let q = 0; q < Q; q++) {
    const s = performance.now();
    const hits = raw!.search(qvec(q), K, ef);
    lat.push(performance.now() - s);
    if (q < TRUTH) got.push(hits.map((h) => `v${h.label}`));
  }
  return { ...latencies(lat), recall: recallOf(got, truth), qps: 1000 / (lat.reduce((a, b) => a + b, 0) / lat.length) };
};
const raw64 = rawSearch(EF);
const raw32 = rawSearch(32);
const rawDir = tempDir("lh-bench-raw-");
const rawFile = `${rawDir}/raw.hnsw`;
t0 = performance.now();
raw.save(rawFile);
const rawSaveS = (performance.now() - t0) / 1000;
t0 = performance.now();
Graph.load(rawFile, { dim: DIM, metric: "cosine", m: M, efConstruction: EF_C });
const rawLoadS = (performance.now() - t0) / 1000;
rmSync(rawDir, { recursive: true, force: true });
raw = null;
Bun.gc(true);

// ---- the background applier vs raw inserts, same process, no HTTP (isolates indexing overhead) ----
const SUB = Math.min(N, 20_000);
log(`in-process: applier vs raw inserts on ${SUB} vectors`);
const subRoot = tempDir("lh-bench-applier-");
const subSvc = await VectorIndexes.open(await FsObjectStore.open(subRoot), v.parse(vectorSection, {}), `${subRoot}/wal`, silentLogger);
await subSvc.createIndex({ name: "sub", dim: DIM, m: M, ef_construction: EF_C });
const subItems = Array.from({ length: SUB }, (_, i) => ({ id: `v${i}`, vector: Array.from(data.subarray(i * DIM, (i + 1) * DIM)) }));
t0 = performance.now();
for (let b = 0; b < SUB; b += BATCH) subSvc.upsert("sub", subItems.slice(b, b + BATCH));
const subAckS = (performance.now() - t0) / 1000;
await subSvc.waitIndexed("sub");
const subApplierRate = SUB / ((performance.now() - t0) / 1000);
await subSvc.close();
rmSync(subRoot, { recursive: true, force: true });
let subRaw: Graph | null = Graph.create({ dim: DIM, metric: "cosine", m: M, efConstruction: EF_C }, 0);
t0 = performance.now();
for (let i = 0; i < SUB; i++) subRaw.add(i, data.subarray(i * DIM, (i + 1) * DIM));
const subRawRate = SUB / ((performance.now() - t0) / 1000);
subRaw = null;

// ---- the server ----
const root = tempDir("lh-bench-vector-");
const env = { LH_STORAGE_FS_ROOT: root };
log("server: starting a child process");
let child: Child = await startChild(env);
const post = async (path: string, body: string) => {
  const res = await fetch(`${child.url}/v1/vectors${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const json = (await res.json()) as any;
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
};
const getInfo = async () => (await (await fetch(`${child.url}/v1/vectors/indexes/bench`)).json()) as any;
await post("/indexes", JSON.stringify({ name: "bench", dim: DIM, metric: "cosine", m: M, ef_construction: EF_C, ef_search: EF }));

log("server: preparing request bodies");
const vecJson = (arr: Float32Array, i: number) => {
  const parts = new Array<string>(DIM);
  for (let j = 0; j < DIM; j++) parts[j] = arr[i * DIM + j]!.toPrecision(8);
  return `[${parts.join(",")}]`;
};
const bodies: string[] = [];
for (let b = 0; b < N; b += BATCH) {
  const items: string[] = [];
  for (let i = b; i < Math.min(N, b + BATCH); i++) items.push(`{"id":"v${i}","vector":${vecJson(data, i)},"metadata":{"bucket":${bucketOf(i)}}}`);
  bodies.push(`{"items":[${items.join(",")}]}`);
}
const bodyBytes = bodies.reduce((s, b) => s + b.length, 0);

log(`server: upserting ${N} in ${bodies.length} durable batches`);
const upStart = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 2 }, async () => {
    while (next < bodies.length) await post("/indexes/bench/upsert", bodies[next++]!);
  }),
);
const upS = (performance.now() - upStart) / 1000;
const ackRate = N / upS;
bodies.length = 0;
Bun.gc(true);
log(`acknowledged ${N} in ${upS.toFixed(1)} s (${fmt(ackRate)}/s)`);

// Searches during catch-up must find every acknowledged item: probe items by their own vector.
log("server: searching while indexing catches up");
const catchupLat: number[] = [];
let probes = 0;
let found = 0;
let info = await getInfo();
let lastProbe = 0;
let maxScanned = 0;
while (info.pending > 0) {
  // Each probe scans the pending items (int8 shortlist, exact re-score) on the main thread while
  // the graph worker inserts on its own; on 2 cores a probe still takes CPU from the run it
  // measures, so one pair per second.
  if (performance.now() - lastProbe > 1000) {
    lastProbe = performance.now();
    for (let p = 0; p < 2; p++) {
      const i = Math.floor(Math.random() * N);
      const s = performance.now();
      const { hits, pending_scanned } = await post(
        "/indexes/bench/search",
        JSON.stringify({ vector: Array.from(data.subarray(i * DIM, (i + 1) * DIM)), k: 1 }),
      );
      catchupLat.push(performance.now() - s);
      maxScanned = Math.max(maxScanned, pending_scanned);
      probes++;
      if (hits[0]?.id === `v${i}`) found++;
    }
  }
  await Bun.sleep(100);
  info = await getInfo();
}
const catchupS = (performance.now() - upStart) / 1000;
const indexRate = N / catchupS;
log(`indexed in ${catchupS.toFixed(1)} s from the first write (${fmt(indexRate)}/s); probes found ${found}/${probes}`);

async function httpSearch(filter: boolean) {
  const lat: number[] = [];
  const got: string[][] = [];
  let full = 0;
  const n = filter ? truthFiltered.length * 4 : Q;
  for (let q = 0; q < n; q++) {
    const body = JSON.stringify({ vector: Array.from(qvec(q % Q)), k: K, ...(filter ? { filter: { bucket: q % BUCKETS } } : {}) });
    const s = performance.now();
    const { hits } = await post("/indexes/bench/search", body);
    lat.push(performance.now() - s);
    if (hits.length === K) full++;
    if (filter ? q < truthFiltered.length : q < TRUTH) got.push(hits.map((h: { id: string }) => h.id));
  }
  return {
    ...latencies(lat),
    recall: recallOf(got, filter ? truthFiltered : truth),
    full: full / n,
    qps: 1000 / (lat.reduce((a, b) => a + b, 0) / lat.length),
  };
}
log("server: search over HTTP");
const http64 = await httpSearch(false);
const httpFiltered = await httpSearch(true);
const serverPeakRss = procStatus(child.proc.pid, "VmHWM");
const serverRss = procStatus(child.proc.pid, "VmRSS");

log("server: graceful stop (final snapshot), then cold restart");
t0 = performance.now();
child.proc.kill("SIGTERM");
await child.proc.exited;
const stopS = (performance.now() - t0) / 1000;
t0 = performance.now();
child = await startChild(env);
await post("/indexes/bench/search", JSON.stringify({ vector: Array.from(qvec(0)), k: K }));
const restartS = (performance.now() - t0) / 1000;
const afterRestart = await getInfo();
child.proc.kill("SIGKILL");
await child.proc.exited;

// ---- in-process: the same data loaded by the service in this process ----
log("in-process: loading the snapshot with VectorIndexes.open");
t0 = performance.now();
const svc = await VectorIndexes.open(await FsObjectStore.open(root), v.parse(vectorSection, {}), `${root}/wal/vectors`, silentLogger);
const loadS = (performance.now() - t0) / 1000;
async function inProcess(filter: boolean) {
  const lat: number[] = [];
  const got: string[][] = [];
  const n = filter ? truthFiltered.length * 4 : Q;
  for (let q = 0; q < n; q++) {
    const vector = Array.from(qvec(q % Q));
    const s = performance.now();
    const { hits } = await svc.search("bench", { vector, k: K, ...(filter ? { filter: { bucket: q % BUCKETS } } : {}) });
    lat.push(performance.now() - s);
    if (filter ? q < truthFiltered.length : q < TRUTH) got.push(hits.map((h) => h.id));
  }
  return { ...latencies(lat), recall: recallOf(got, filter ? truthFiltered : truth) };
}
const ip64 = await inProcess(false);
const ipFiltered = await inProcess(true);
await svc.close();
rmSync(root, { recursive: true, force: true });

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const md = `## Vector indexes

Command: \`bun scripts/bench/vector.ts --n ${N} --dim ${DIM} --queries ${Q} --truth ${TRUTH} --batch ${BATCH}\` (${machineLine()}; load average before ${loadBefore}, after ${loadAvg()}). ${N.toLocaleString("en-US")} × ${DIM} clustered unit vectors (100 clusters), ${Q} queries from the same mixture, cosine, M=${M}, ef_construction=${EF_C}, ef=${EF}, k=${K}. Recall@10 against exact brute force on ${TRUTH} queries (TypeScript brute force: ${ms(exactMs)} per query). The server is a child \`bun src/main.ts\` on loopback, fs backend, log fsynced per batch; the raw ceiling is the same hnswlib-node build driven in-process through \`src/vector/hnsw.ts\` (its only wrapper: checks, typed → plain arrays). hnswlib-node built with \`${readFileSync("node_modules/hnswlib-node/build/lakehouse-flags", "utf8")}\`.

| what | lakehouse | raw hnswlib | ratio | target |
|---|---|---|---|---|
| writes: durable upserts acknowledged over HTTP (batches of ${BATCH}, 2 in flight, ${mib(bodyBytes)} of JSON) | **${fmt(ackRate)} vectors/s** (${upS.toFixed(1)} s) | — | — | ≥ 10,000/s |
| indexing, first write → graph caught up | ${fmt(indexRate)} vectors/s (${catchupS.toFixed(1)} s) | ${fmt(rawRate)} inserts/s (${rawBuildS.toFixed(1)} s) | ${ratio(indexRate, rawRate)} | ≥ 0.9× |
| indexing in-process, ${SUB.toLocaleString("en-US")} vectors: \`VectorService.upsert\` (acknowledged in ${subAckS.toFixed(2)} s) → graph caught up, vs raw inserts | ${fmt(subApplierRate)} vectors/s | ${fmt(subRawRate)} inserts/s | ${ratio(subApplierRate, subRawRate)} | ≥ 0.9× |
| searches during catch-up finding the probed item (k=1), over HTTP | ${found}/${probes}, p50 ${ms(latencies(catchupLat).p50)}, up to ${fmt(maxScanned)} pending scanned | — | — | all |
| search p50 / p99, in-process (\`VectorService.search\`) | ${ms(ip64.p50)} / ${ms(ip64.p99)}, recall ${ip64.recall.toFixed(3)} | ${ms(raw64.p50)} / ${ms(raw64.p99)}, recall ${raw64.recall.toFixed(3)} | ${ratio(ip64.p50, raw64.p50)} | recall ≥ 0.99, p50 ≤ 1 ms |
| search p50 / p99 over HTTP, sequential | ${ms(http64.p50)} / ${ms(http64.p99)}, ${fmt(http64.qps)} QPS, recall ${http64.recall.toFixed(3)} | — | ${ratio(http64.p50, raw64.p50)} | p50 ≤ 2 ms |
| raw search at ef=32 | — | ${ms(raw32.p50)} / ${ms(raw32.p99)}, recall ${raw32.recall.toFixed(3)} | — | — |
| 1%-selective filter (\`{"bucket": b}\`), in-process | ${ms(ipFiltered.p50)} / ${ms(ipFiltered.p99)}, recall ${ipFiltered.recall.toFixed(3)} | — | — | p50 ≤ 10 ms, full k |
| 1%-selective filter over HTTP | ${ms(httpFiltered.p50)} / ${ms(httpFiltered.p99)}, full k in ${(httpFiltered.full * 100).toFixed(0)}% | — | — | — |
| memory: server peak RSS vs the raw process's peak (data + graph, as the issue measured it) | ${mib(serverPeakRss)} (at the end: ${mib(serverRss)}) | ${mib(rawPeakRss)} (graph alone: +${mib(rawRss)}) | ${ratio(serverPeakRss, rawPeakRss)} | ≤ 1.2× |
| graceful stop (final snapshot) | ${stopS.toFixed(1)} s | save ${rawSaveS.toFixed(2)} s | — | — |
| cold restart to first answered search (child process) | **${restartS.toFixed(1)} s**, pending ${afterRestart.pending} | load ${rawLoadS.toFixed(2)} s | ${ratio(restartS, rawLoadS)} | ≤ 3 s |
| \`VectorIndexes.open\` in-process (snapshot load + slab fill) | ${loadS.toFixed(1)} s | — | — | — |
`;
writeSection(args.section!, md);
console.log(md);
