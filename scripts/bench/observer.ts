// Observer benchmark: the full server (a child `bun src/main.ts`, fsync on) over HTTP.
//  - durable event ingest, batched: 1,000 events per request, --clients-batched concurrent clients;
//  - durable event ingest, one event per request, 32 concurrent clients (group commit);
//  - review latency: two truth rules and one SQL check on the 500K-row workers dataset
//    (scripts/datagen/gen_staffing.ts, the lakehouse benchmark's input), one review at a time.
// Each figure is the median of --runs runs (default 3), with the spread and the load average: the
// machine is shared and noisy.
//
//   bun scripts/bench/observer.ts [--runs 3] [--batches 100] [--singles 20000] [--reviews 300] [--rows 500000]
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Child, startChild } from "../../test/support/child.ts";
import { tempDir } from "../../test/support/tmp.ts";
import { machineLine, percentile, writeSection } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    batches: { type: "string", default: "100" },
    "clients-batched": { type: "string", default: "4" },
    singles: { type: "string", default: "20000" },
    reviews: { type: "string", default: "300" },
    rows: { type: "string", default: "500000" },
  },
});
const RUNS = Number(args.runs);
const BATCHES = Number(args.batches);
const BATCH_CLIENTS = Number(args["clients-batched"]);
const SINGLES = Number(args.singles);
const REVIEWS = Number(args.reviews);
const ROWS = Number(args.rows);
const ROOT = join(import.meta.dir, "..", "..");
const WORK = "/tmp/lh-bench";
const CSV = join(WORK, `workers_${ROWS}.csv`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
const event = (i: number) => ({
  source: `svc${i % 8}`,
  kind: i % 10 === 0 ? "error" : "step",
  level: i % 10 === 0 ? "error" : "info",
  run_id: `run-${i % 100}`,
  payload: { i, msg: "step done", ms: i % 97 },
});

mkdirSync(WORK, { recursive: true });
if (!existsSync(CSV)) {
  const gen = Bun.spawnSync(["bun", join(ROOT, "scripts/datagen/gen_staffing.ts"), "--rows", String(ROWS), "--out", CSV], { stderr: "inherit" });
  if (gen.exitCode !== 0) throw new Error("datagen failed");
}

const loadBefore = loadavg()[0]!;
const root = tempDir("lh-bench-observer-");
const child: Child = await startChild({
  LH_STORAGE_FS_ROOT: root,
  LH_STORAGE_FS_FSYNC: "true",
  LH_OBSERVER_MAX_PENDING_EVENTS: "200000",
  LH_INGEST_MAX_INGEST_BYTES: String(1024 * 1024 * 1024),
});
// Request bodies are serialized before the clock starts: building 1,000 events in the client costs
// as much as the server's whole handling of them, and this measures the server.
const batchBodies = Array.from({ length: BATCHES }, (_, b) => JSON.stringify({ events: Array.from({ length: 1000 }, (_, i) => event(b * 1000 + i)) }));
const singleBodies = Array.from({ length: SINGLES }, (_, i) => JSON.stringify(event(i)));
console.log("server up:", child.url);

async function batched(): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: BATCH_CLIENTS }, async () => {
      for (let b = next++; b < BATCHES; b = next++) {
        const res = await post(child.url, "/v1/observer/events", batchBodies[b]);
        if (res.status !== 201) throw new Error(`batch: HTTP ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  return (BATCHES * 1000) / ((performance.now() - t0) / 1000);
}

async function singles(): Promise<{ rate: number; refused: number }> {
  let next = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < SINGLES; i = next++) {
        const res = await post(child.url, "/v1/observer/events", singleBodies[i]);
        await res.arrayBuffer();
        if (res.status === 503) refused++;
        else if (res.status !== 201) throw new Error(`single: HTTP ${res.status}`);
      }
    }),
  );
  return { rate: SINGLES / ((performance.now() - t0) / 1000), refused };
}

const batchRates: number[] = [];
const singleRates: number[] = [];
let refusedTotal = 0;
for (let r = 0; r < RUNS; r++) {
  batchRates.push(await batched());
  const s = await singles();
  singleRates.push(s.rate);
  refusedTotal += s.refused;
  console.log(`run ${r + 1}: batched ${batchRates.at(-1)!.toFixed(0)} events/s, single ${s.rate.toFixed(0)} events/s (${s.refused} refused)`);
}

// Review latency on the 500K workers dataset.
const t0 = performance.now();
const up = await fetch(`${child.url}/v1/ingest/workers`, { method: "POST", headers: { "content-type": "text/csv" }, body: Bun.file(CSV) });
if (up.status >= 300) throw new Error(`ingest: ${up.status} ${await up.text()}`);
const ingestS = (performance.now() - t0) / 1000;
const countIL = ((await (await post(child.url, "/v1/sql", { sql: "select count(*) from workers where state = 'IL'" })).json()) as { rows: number[][] })
  .rows[0]![0]!;
const reviewBody = (i: number) => ({
  claim: { state: "IL", workers: countIL, note: `claim ${i}` },
  rules: [
    { type: "field_equals", path: "state", value: "IL" },
    { type: "field_greater", path: "workers", value: 0 },
  ],
  evidence: [{ sql: "select count(*) from workers where state = ?", params: ["IL"], expect: countIL }],
  run_id: "bench",
});
for (let i = 0; i < 20; i++) await (await post(child.url, "/v1/observer/review", reviewBody(i))).arrayBuffer();
const reviewP50: number[] = [];
const reviewP95: number[] = [];
const serverMs: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const lat: number[] = [];
  for (let i = 0; i < REVIEWS; i++) {
    const s = performance.now();
    const res = await post(child.url, "/v1/observer/review", reviewBody(i));
    const body = (await res.json()) as { verdict: string; ms: number };
    lat.push(performance.now() - s);
    if (body.verdict !== "accept") throw new Error(`review: ${JSON.stringify(body)}`);
    serverMs.push(body.ms);
  }
  lat.sort((a, b) => a - b);
  reviewP50.push(percentile(lat, 50));
  reviewP95.push(percentile(lat, 95));
  console.log(`run ${r + 1}: review p50 ${reviewP50.at(-1)!.toFixed(2)} ms, p95 ${reviewP95.at(-1)!.toFixed(2)} ms`);
}
serverMs.sort((a, b) => a - b);
const loadAfter = loadavg()[0]!;
child.proc.kill("SIGTERM");
await child.proc.exited;
rmSync(root, { recursive: true, force: true });

const md = `## Observer

\`bun scripts/bench/observer.ts --runs ${RUNS} --batches ${BATCHES} --singles ${SINGLES} --reviews ${REVIEWS}\` — ${machineLine()}.
The full server as a child process over HTTP on loopback, fsync on (every acknowledged event is on
disk). Median of ${RUNS} runs (spread in brackets). Load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after:
the machine is shared with other work, so treat the figures as lower bounds with noise.

| measure | result | target |
|---|---|---|
| durable ingest, batched (1,000 events per request, ${BATCH_CLIENTS} clients, ${BATCHES * 1000} events) | **${median(batchRates).toFixed(0)} events/s** (${spread(batchRates)}) | ≥ 50,000/s |
| durable ingest, one event per request, 32 clients (${SINGLES} events) | **${median(singleRates).toFixed(0)} events/s** (${spread(singleRates)}); ${refusedTotal} refused with 503 | ≥ 3,000/s |
| review: 2 rules + 1 SQL check on ${ROWS.toLocaleString("en")} workers, p50 over HTTP | **${median(reviewP50).toFixed(2)} ms** (${reviewP50.map((x) => x.toFixed(2)).join(", ")}) | ≤ 15 ms |
| review p95 over HTTP | ${median(reviewP95).toFixed(2)} ms | |
| review time inside the server (\`ms\` in the answer), p50 / p95 | ${percentile(serverMs, 50).toFixed(2)} / ${percentile(serverMs, 95).toFixed(2)} ms | |

The ${ROWS.toLocaleString("en")}-row dataset was ingested once (${ingestS.toFixed(1)} s) before the reviews. Every review
is stored as a verdict event (durable) before it is answered, so its latency includes one group
commit.
`;
writeSection("observer", md);
console.log(md);
process.exit(0);
