// Compares two builds of hnswlib-node's native addon on the same data: the SSE-only build and the
// `-O3 -mavx2 -mfma` one that scripts/build-native.ts installs on AVX2+FMA machines. It loads each
// addon by path (the only place outside src/vector/hnsw.ts that touches the library: it measures
// builds of the library itself, not the project's use of it).
//
//   cp -r node_modules/hnswlib-node /tmp/hnsw-sse && cd /tmp/hnsw-sse && rm -rf build &&
//     CXXFLAGS=-O3 npm_config_nodedir=/usr NODE_PATH=$OLDPWD/node_modules node $OLDPWD/node_modules/node-gyp/bin/node-gyp.js rebuild
//   bun scripts/bench/vector-simd.ts /tmp/hnsw-sse/build/Release/addon.node node_modules/hnswlib-node/build/Release/addon.node
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { clusteredSplit, exactKnn } from "../../test/support/vectors.ts";
import { machineLine, writeSection } from "./report.ts";

const require = createRequire(import.meta.url);
const [ssePath, avxPath] = process.argv.slice(2);
if (!ssePath || !avxPath) throw new Error("usage: vector-simd.ts <sse addon.node> <avx2 addon.node>");
const Q = 500;

function run(addon: string, n: number, dim: number) {
  const { HierarchicalNSW } = require(resolve(addon));
  const { data, queries } = clusteredSplit(n, Q, dim, { clusters: 100, seed: 5 });
  const rows = Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * dim, (i + 1) * dim)));
  const qs = Array.from({ length: Q }, (_, i) => Array.from(queries.subarray(i * dim, (i + 1) * dim)));
  const idx = new HierarchicalNSW("cosine", dim);
  idx.initIndex({ maxElements: n, m: 16, efConstruction: 200 });
  const t = performance.now();
  for (let i = 0; i < n; i++) idx.addPoint(rows[i], i);
  const rate = n / ((performance.now() - t) / 1000);
  const truth = qs.slice(0, 100).map((q) => new Set(exactKnn(data, dim, q, 10)));
  const out: Record<string, number> = { rate };
  for (const ef of [32, 64]) {
    idx.setEf(ef);
    const lat: number[] = [];
    let hit = 0;
    for (let r = 0; r < 3; r++)
      qs.forEach((q, i) => {
        const s = performance.now();
        const res = idx.searchKnn(q, 10);
        lat.push(performance.now() - s);
        if (r === 0 && i < 100) hit += res.neighbors.filter((x: number) => truth[i]!.has(x)).length;
      });
    lat.sort((a, b) => a - b);
    out[`p50_${ef}`] = lat[Math.floor(lat.length / 2)]!;
    out[`recall_${ef}`] = hit / 1000;
  }
  return out;
}

const rowsMd: string[] = [];
for (const [n, dim] of [
  [10_000, 384],
  [20_000, 768],
]) {
  const sse = run(ssePath, n!, dim!);
  const avx = run(avxPath, n!, dim!);
  const f = (x: number) => x.toFixed(3);
  rowsMd.push(
    `| ${n!.toLocaleString("en-US")} × ${dim} | ${Math.round(sse.rate!)} → ${Math.round(avx.rate!)} /s (**${(avx.rate! / sse.rate!).toFixed(2)}×**) | ${f(sse.p50_32!)} → ${f(avx.p50_32!)} ms (**${(sse.p50_32! / avx.p50_32!).toFixed(2)}×**) | ${f(sse.p50_64!)} → ${f(avx.p50_64!)} ms (**${(sse.p50_64! / avx.p50_64!).toFixed(2)}×**) | ${sse.recall_64} / ${avx.recall_64} |`,
  );
}
const md = `## hnswlib build flags: SSE-only vs \`-O3 -mavx2 -mfma\`

Command: see the header of \`scripts/bench/vector-simd.ts\` (${machineLine()}). Same clustered data, M=16, ef_construction=200, cosine, k=10, one thread; search p50 over 3 × ${Q} queries. \`-mavx2 -mfma\` runs on any x86-64 with AVX2 and FMA (Haswell, 2013, and later; AMD since 2015), unlike \`-march=native\` which here bakes in AVX-512. \`scripts/build-native.ts\` picks it when /proc/cpuinfo shows both flags; \`LH_NATIVE_CXXFLAGS\` overrides.

| data | inserts (SSE → AVX2) | search p50 ef=32 | search p50 ef=64 | recall@10 ef=64 (SSE / AVX2) |
|---|---|---|---|---|
${rowsMd.join("\n")}
`;
writeSection("vector-simd", md);
console.log(md);
