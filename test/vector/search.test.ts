// Recall against exact brute force, filtered search on both plans, and reads of pending writes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { ok, send } from "../support/http.ts";
import { clusteredSplit, exactKnn, row } from "../support/vectors.ts";
import { searchIds } from "./helpers.ts";

const N = 4000;
const DIM = 48;
const K = 10;
const { data, queries } = clusteredSplit(N, 100, DIM, { clusters: 40, seed: 7 });
const bucket = (i: number) => i % 100;
const metadata = (i: number) => ({ bucket: bucket(i), even: i % 2 === 0, tier: ["a", "b", "c"][i % 3] });

let lh: Lakehouse;

beforeAll(async () => {
  // exact_filter_max 100: a 1% filter (40 items) is scored exactly, a 10% one (400) goes through the graph.
  lh = await testLakehouse({ vector: { exact_filter_max: 100 } });
  await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "mix", dim: DIM }));
  for (let i = 0; i < N; i += 1000) {
    const items = Array.from({ length: 1000 }, (_, j) => ({ id: `v${i + j}`, vector: row(data, DIM, i + j), metadata: metadata(i + j) }));
    await ok(send(lh, "POST", "/v1/vectors/indexes/mix/upsert", { items }));
  }
});

afterAll(async () => {
  await lh.close();
});

function recall(got: string[], want: number[]): number {
  const w = new Set(want.map((i) => `v${i}`));
  return got.filter((id) => w.has(id)).length / want.length;
}

describe("search", () => {
  test("reads its own writes before indexing: pending items are found exactly", async () => {
    const info = await ok(send(lh, "GET", "/v1/vectors/indexes/mix"));
    expect(info.count).toBe(N);
    expect(info.pending).toBeGreaterThan(0);
    for (const i of [5, 1999, 3999]) {
      expect((await searchIds(lh, "mix", { vector: row(data, DIM, i), k: 1 }))[0]).toBe(`v${i}`);
    }
  });

  test("recall@10 ≥ 0.95 against exact brute force", async () => {
    await lh.vector.service.waitIndexed("mix");
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/mix"))).pending).toBe(0);
    let total = 0;
    for (let q = 0; q < 100; q++) {
      const vec = row(queries, DIM, q);
      total += recall(await searchIds(lh, "mix", { vector: vec, k: K }), exactKnn(data, DIM, vec, K));
    }
    expect(total / 100).toBeGreaterThanOrEqual(0.95);
  });

  test("a filter matching 1% of items still returns k, the exact filtered top k", async () => {
    await lh.vector.service.waitIndexed("mix");
    for (let q = 0; q < 20; q++) {
      const vec = row(queries, DIM, q);
      const b = q % 100;
      const res = await ok(send(lh, "POST", "/v1/vectors/indexes/mix/search", { vector: vec, k: K, filter: { bucket: b } }));
      expect(res.hits.length).toBe(K);
      expect(res.hits.every((h: { metadata: { bucket: number } }) => h.metadata.bucket === b)).toBe(true);
      expect(res.hits.map((h: { id: string }) => h.id)).toEqual(exactKnn(data, DIM, vec, K, (i) => bucket(i) === b).map((i) => `v${i}`));
    }
  });

  test("a filter written as text means the same as its object form", async () => {
    const vec = row(queries, DIM, 3);
    const asText = await ok(send(lh, "POST", "/v1/vectors/indexes/mix/search", { vector: vec, k: K, filter: "bucket in (3, 4) and tier != a" }));
    const asObject = await ok(
      send(lh, "POST", "/v1/vectors/indexes/mix/search", { vector: vec, k: K, filter: { bucket: { $in: [3, 4] }, tier: { $ne: "a" } } }),
    );
    expect(asText.hits.length).toBe(K);
    expect(asText.hits).toEqual(asObject.hits);
  });

  test("a 10% filter goes through the graph and still returns k matching items with high recall", async () => {
    await lh.vector.service.waitIndexed("mix");
    let total = 0;
    for (let q = 0; q < 30; q++) {
      const vec = row(queries, DIM, q);
      const filter = { bucket: { $lt: 10 }, $or: [{ even: true }, { even: false }] };
      const res = await ok(send(lh, "POST", "/v1/vectors/indexes/mix/search", { vector: vec, k: K, filter }));
      expect(res.hits.length).toBe(K);
      expect(res.hits.every((h: { metadata: { bucket: number } }) => h.metadata.bucket < 10)).toBe(true);
      total += recall(
        res.hits.map((h: { id: string }) => h.id),
        exactKnn(data, DIM, vec, K, (i) => bucket(i) < 10),
      );
    }
    expect(total / 30).toBeGreaterThanOrEqual(0.9);
  });

  test("filters apply to pending items too, and metadata updates are seen at once", async () => {
    const vec = row(queries, DIM, 0);
    await ok(send(lh, "POST", "/v1/vectors/indexes/mix/upsert", { items: [{ id: "fresh", vector: vec, metadata: { bucket: 555 } }] }));
    expect(await searchIds(lh, "mix", { vector: vec, k: 3, filter: { bucket: 555 } })).toEqual(["fresh"]);
    expect(await searchIds(lh, "mix", { vector: vec, k: 3, filter: { bucket: { $ne: 555 } } })).not.toContain("fresh");
    await lh.vector.service.waitIndexed("mix");
    // Move v0 into bucket 555 with the same vector: only metadata changes matter to the filter.
    await ok(send(lh, "POST", "/v1/vectors/indexes/mix/upsert", { items: [{ id: "v0", vector: row(data, DIM, 0), metadata: { bucket: 555 } }] }));
    expect((await searchIds(lh, "mix", { vector: vec, k: 3, filter: { bucket: 555 } })).sort()).toEqual(["fresh", "v0"]);
    await ok(send(lh, "POST", "/v1/vectors/indexes/mix/delete", { ids: ["fresh"] }));
    expect(await searchIds(lh, "mix", { vector: vec, k: 3, filter: { bucket: 555 } })).toEqual(["v0"]);
  });

  test("concurrent searches during writes stay consistent", async () => {
    const writes = Array.from({ length: 5 }, (_, w) =>
      send(lh, "POST", "/v1/vectors/indexes/mix/upsert", {
        items: Array.from({ length: 50 }, (_, j) => ({ id: `c${w}-${j}`, vector: row(queries, DIM, (w * 50 + j) % 100) })),
      }),
    );
    const reads = Array.from({ length: 20 }, (_, q) => searchIds(lh, "mix", { vector: row(queries, DIM, q), k: K }));
    for (const r of await Promise.all(writes)) expect(r.status).toBe(200);
    for (const ids of await Promise.all(reads)) expect(ids.length).toBe(K);
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/mix"))).count).toBe(N + 250);
  });
});
