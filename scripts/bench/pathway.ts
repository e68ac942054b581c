// Pathway benchmark: the full server (a child `bun src/main.ts`, fsync on, the offline hash
// embedder) over HTTP with --n traces loaded: durable ADD one request at a time and with 32
// concurrent clients (group commit), batched ADD, GET, LIST page, SEARCH with a scope filter,
// as_of GET, and restart times (graceful, and after kill -9).
//
//   bun scripts/bench/pathway.ts [--n 100000] [--requests 2000] [--queries 500]
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Child, startChild } from "../../test/support/child.ts";
import { tempDir } from "../../test/support/tmp.ts";
import { machineLine, percentile, writeSection } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "100000" },
    requests: { type: "string", default: "2000" },
    queries: { type: "string", default: "500" },
    batch: { type: "string", default: "1000" },
    section: { type: "string", default: "pathway" },
  },
});
const N = Number(args.n);
const R = Number(args.requests);
const Q = Number(args.queries);
const BATCH = Number(args.batch);
const USERS = 1000;
const CITIES = ["Joliet", "Aurora", "Naperville", "Elgin", "Peoria", "Rockford", "Waukegan", "Cicero"];
const WORDS =
  "prefers morning evening night shifts forklift certified warehouse dock picker packer reliable late early weekend overtime bilingual driver license safety training".split(
    " ",
  );

let seed = 7;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
const sentence = (i: number) => `${Array.from({ length: 8 }, () => pick(WORDS)).join(" ")} in ${pick(CITIES)} #${i}`;
const traceBody = (i: number) => ({
  user_id: `u${i % USERS}`,
  agent_id: "bench",
  kind: pick(["fact", "preference", "outcome"]),
  content: sentence(i),
  data: { city: pick(CITIES), rate: 15 + Math.floor(rnd() * 15) },
  tags: [pick(WORDS)],
});

const root = tempDir("lh-bench-pathway-");
const env = { LH_STORAGE_FS_ROOT: root, LH_STORAGE_FS_FSYNC: "true" };
let child: Child = await startChild(env);

async function postJson(path: string, body: unknown): Promise<any> {
  const res = await fetch(`${child.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
async function getJson(path: string): Promise<any> {
  const res = await fetch(`${child.url}${path}`);
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(ms(t0));
  }
  return out.sort((a, b) => a - b);
}

const rows: string[] = [];
const row = (what: string, figure: string, target = "") => rows.push(`| ${what} | ${figure} | ${target} |`);

// Batched ADD: the load itself.
let t0 = performance.now();
for (let i = 0; i < N; i += BATCH) await postJson("/v1/pathway/traces", { traces: Array.from({ length: Math.min(BATCH, N - i) }, (_, j) => traceBody(i + j)) });
const loadS = ms(t0) / 1000;
row(`batched ADD (${BATCH} per request), ${N.toLocaleString("en")} traces`, `${Math.round(N / loadS).toLocaleString("en")} traces/s (${loadS.toFixed(1)} s)`);

// The vector module indexes in the background, on the same event loop: measured during that, every
// figure below is the indexing's, not pathway's. Wait until the graph holds everything.
t0 = performance.now();
while ((await getJson("/v1/vectors/indexes/pathway-traces")).pending > 0) await Bun.sleep(200);
row("vector index caught up (HNSW build, after the load)", `${(ms(t0) / 1000).toFixed(1)} s more`);

// ADD one request at a time.
let next = N;
t0 = performance.now();
const single = await timed(R / 4, () => postJson("/v1/pathway/traces", traceBody(next++)));
row("durable ADD, one request at a time", `${Math.round((R / 4 / ms(t0)) * 1000).toLocaleString("en")}/s, p50 ${fmt(percentile(single, 50))} ms`);

// ADD with 32 concurrent clients.
t0 = performance.now();
let left = R * 2;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (left-- > 0) await postJson("/v1/pathway/traces", traceBody(next++));
  }),
);
row("durable ADD, 32 concurrent clients (group commit)", `${Math.round((R * 2 * 1000) / ms(t0)).toLocaleString("en")}/s`, "≥ 3,000/s");

while ((await getJson("/v1/vectors/indexes/pathway-traces")).pending > 0) await Bun.sleep(200);
const sample = (await getJson(`/v1/pathway/traces?limit=1000`)).traces.map((t: any) => t.uid) as string[];
const asOf = new Date().toISOString();
const gets = await timed(Q, (i) => getJson(`/v1/pathway/traces/${sample[i % sample.length]}`));
row("GET p50 / p95", `${fmt(percentile(gets, 50))} / ${fmt(percentile(gets, 95))} ms`, "p50 ≤ 2 ms");
const asofs = await timed(Q, (i) => getJson(`/v1/pathway/traces/${sample[i % sample.length]}?as_of=${asOf}`));
row("as_of GET p50", `${fmt(percentile(asofs, 50))} ms`);
const lists = await timed(Q / 5, (i) => getJson(`/v1/pathway/traces?limit=50&user_id=u${i % USERS}`));
row("LIST page (50, one user's scope) p50", `${fmt(percentile(lists, 50))} ms`);
const listAll = await timed(Q / 5, () => getJson(`/v1/pathway/traces?limit=50`));
row("LIST page (50, no filter) p50", `${fmt(percentile(listAll, 50))} ms`);
const searches = await timed(Q, (i) => postJson("/v1/pathway/search", { query: sentence(i), k: 10, user_id: `u${i % USERS}` }));
row("SEARCH p50 / p95 (k 10, user_id scope)", `${fmt(percentile(searches, 50))} / ${fmt(percentile(searches, 95))} ms`, "p50 ≤ 10 ms");
const wide = await timed(Q, (i) => postJson("/v1/pathway/search", { query: sentence(i), k: 10, filter: { "data.city": pick(CITIES) } }));
row("SEARCH p50 / p95 (k 10, data.city filter, 1/8 of traces)", `${fmt(percentile(wide, 50))} / ${fmt(percentile(wide, 95))} ms`);

async function restart(how: "SIGTERM" | "SIGKILL"): Promise<number> {
  child.proc.kill(how);
  await child.proc.exited;
  const t = performance.now();
  child = await startChild(env);
  for (;;) {
    const res = await fetch(`${child.url}/health`);
    if (res.status === 200) break;
    await Bun.sleep(10);
  }
  return ms(t) / 1000;
}
const graceful = await restart("SIGTERM");
row("restart after a graceful stop (to /health 200)", `${graceful.toFixed(2)} s`, "≤ 3 s");
await postJson("/v1/pathway/traces", { traces: Array.from({ length: BATCH }, (_, j) => traceBody(next + j)) });
const killed = await restart("SIGKILL");
row("restart after kill -9 (log replay)", `${killed.toFixed(2)} s`);
const total = (await getJson("/health")).details?.pathway?.traces;

child.proc.kill("SIGTERM");
await child.proc.exited;
rmSync(root, { recursive: true, force: true });

const md = `## Pathway memory

\`bun scripts/bench/pathway.ts --n ${N} --requests ${R} --queries ${Q}\` — ${machineLine()}. A child server over HTTP,
\`storage.fs.fsync = true\`, the offline hash embedder (384-d); traces of ~80 characters with a scope of ${USERS} users, data and one tag;
${total?.toLocaleString("en") ?? "?"} traces at the end.

| what | figure | target |
|---|---|---|
${rows.join("\n")}
`;
console.log(md);
writeSection(args.section, md);
