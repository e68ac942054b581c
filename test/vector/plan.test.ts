// Pure parts: vector checks and distances, top-k, and how a filtered search is planned.
import { describe, expect, test } from "bun:test";
import type { Metadata } from "../../src/filter/compile.ts";
import { FieldPostings } from "../../src/vector/field-postings.ts";
import { searchIndex, type SearchState } from "../../src/vector/search.ts";
import { TopK } from "../../src/vector/topk.ts";
import { scoreOf, toVector } from "../../src/vector/vectors.ts";
import { distance } from "../support/vectors.ts";

describe("vectors", () => {
  test("toVector checks length, type and float32 range, and normalizes under cosine", () => {
    expect(toVector([3, 4], 2, "cosine", "v")).toEqual(Float32Array.from([0.6, 0.8]));
    expect(toVector([3, 4], 2, "l2", "v")).toEqual(Float32Array.from([3, 4]));
    expect(toVector([3], 2, "l2", "v")).toEqual({ path: "v", message: "expected 2 dimensions, got 1" });
    expect(toVector([3, null], 2, "l2", "v")).toEqual({ path: "v[1]", message: "expected a number" });
    expect(toVector([3, 1e39], 2, "l2", "v")).toMatchObject({ path: "v[1]" });
    expect(toVector([0, 0], 2, "cosine", "v")).toMatchObject({ path: "v" });
    expect(toVector([0, 0], 2, "ip", "v")).toEqual(Float32Array.from([0, 0]));
    expect(toVector("1,2", 2, "ip", "v")).toMatchObject({ path: "v" });
  });

  test("distances match hnswlib's and scores read the right way round", () => {
    expect(distance("l2", [1, 2], [4, 6])).toBe(25);
    expect(distance("ip", [1, 2], [3, 4])).toBe(1 - 11);
    expect(scoreOf("ip", distance("ip", [1, 2], [3, 4]))).toBe(11);
    expect(scoreOf("l2", 25)).toBe(25);
  });

  test("TopK keeps the k smallest in order", () => {
    const t = new TopK(3);
    for (const [l, d] of [
      [1, 5],
      [2, 1],
      [3, 9],
      [4, 3],
      [5, 2],
    ])
      t.offer(l!, d!);
    expect(t.sorted().map((s) => s.label)).toEqual([2, 5, 4]);
  });
});

describe("search planning", () => {
  const N = 1000;
  function state(exactFilterMax: number, graphCalls: { accept: boolean }[], reads = { n: 0 }): SearchState {
    const live = new Map(Array.from({ length: N }, (_, i) => [`v${i}`, i] as const));
    const meta: Metadata[] = Array.from({ length: N }, (_, i) => ({ b: i % 100, c: i % 7 }));
    const vectors = Array.from({ length: N }, (_, i) => Float32Array.from([i, 1]));
    return {
      dim: 2,
      metric: "l2",
      efSearch: 16,
      exactFilterMax,
      live,
      idOf: (l) => `v${l}`,
      metaOf: (l) => {
        reads.n++;
        return meta[l]!;
      },
      postings: new FieldPostings(() => [...live.values()].map((l) => [l, meta[l]] as const)),
      vectorOf: (l) => vectors[l]!,
      score: (q, labels, visit) => {
        for (const [i, l] of labels.entries()) visit(i, distance("l2", q, vectors[l]!));
      },
      pending: new Map([[500, 1]]),
      graph: {
        search(q, k, _ef, accept) {
          graphCalls.push({ accept: accept !== undefined });
          // A fake graph holding every item but 500 (pending), exact.
          const all = Array.from({ length: N }, (_, i) => i).filter((i) => i !== 500 && (!accept || accept(i)));
          return all
            .map((label) => ({ label, distance: distance("l2", q, vectors[label]!) }))
            .sort((a, b) => a.distance - b.distance)
            .slice(0, k);
        },
      },
    };
  }

  test("a selective filter is scored exactly without touching the graph", () => {
    const calls: { accept: boolean }[] = [];
    const hits = searchIndex({ vector: [0, 1], k: 3, filter: { b: 7 } }, state(50, calls));
    expect(calls).toEqual([]);
    expect(hits.map((h) => h.id)).toEqual(["v7", "v107", "v207"]);
  });

  test("an $eq condition narrows the candidates to its postings; other conditions still apply", () => {
    const reads = { n: 0 };
    const hits = searchIndex({ vector: [0, 1], k: 3, filter: { $and: [{ c: { $lt: 7 } }, { b: { $in: [7, 8] } }, { c: 0 }] } }, state(50, [], reads));
    // b in {7, 8} holds 20 items, c = 0 about 143: the planner reads the 20; c = 0 keeps multiples of 7.
    expect(reads.n).toBeLessThanOrEqual(20 + 3);
    const want = Array.from({ length: N }, (_, i) => i).filter((i) => (i % 100 === 7 || i % 100 === 8) && i % 7 === 0);
    expect(hits.map((h) => h.id)).toEqual(want.slice(0, 3).map((i) => `v${i}`));
  });

  test("a filter without $eq or $in scans every item", () => {
    const reads = { n: 0 };
    searchIndex({ vector: [0, 1], k: 3, filter: { b: { $lt: 1 } } }, state(50, [], reads));
    expect(reads.n).toBeGreaterThanOrEqual(N);
  });

  test("a broad filter is applied inside the graph walk, pending items merged in", () => {
    const calls: { accept: boolean }[] = [];
    const hits = searchIndex({ vector: [500, 1], k: 3, filter: { b: { $gte: 0 } } }, state(50, calls));
    expect(calls).toEqual([{ accept: true }]);
    expect(hits.map((h) => h.id)).toEqual(["v500", "v499", "v501"]);
  });

  test("no filter: graph results and the exact pending scan are merged", () => {
    const calls: { accept: boolean }[] = [];
    const hits = searchIndex({ vector: [500.2, 1], k: 2 }, state(50, calls));
    expect(calls).toEqual([{ accept: false }]);
    expect(hits.map((h) => h.id)).toEqual(["v500", "v501"]);
  });
});
