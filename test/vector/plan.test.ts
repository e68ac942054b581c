// Pure parts: vector checks and distances, top-k, and how a filtered search is planned.
import { describe, expect, test } from "bun:test";
import type { Metadata } from "../../src/filter/compile.ts";
import { FieldPostings } from "../../src/vector/field-postings.ts";
import { EXACT_PENDING_MAX, searchIndex, type SearchState } from "../../src/vector/search.ts";
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
  const bit = (bits: Uint8Array, l: number) => (bits[l >> 3]! & (1 << (l & 7))) !== 0;
  interface Probe {
    graphCalls: { filtered: boolean }[];
    reads: { n: number };
    shortlists: number[];
    codesComplete: boolean;
  }
  function state(exactFilterMax: number, probe: Partial<Probe> = {}, n = N, pendingLabels: number[] = [500], graphExtra: number[] = []): SearchState {
    const live = new Map(Array.from({ length: n }, (_, i) => [`v${i}`, i] as const));
    const meta: Metadata[] = Array.from({ length: n }, (_, i) => ({ b: i % 100, c: i % 7 }));
    const vectors = Array.from({ length: n }, (_, i) => Float32Array.from([i, 1]));
    const pending = new Map(pendingLabels.map((l) => [l, 1] as const));
    const score = (q: Float32Array, labels: ArrayLike<number>, visit: (i: number, d: number) => void) => {
      for (let i = 0; i < labels.length; i++) visit(i, distance("l2", q, vectors[labels[i]!]!));
    };
    return {
      dim: 2,
      metric: "l2",
      efSearch: 16,
      exactFilterMax,
      live,
      labelLimit: n,
      idOf: (l) => `v${l}`,
      metaOf: (l) => {
        if (probe.reads) probe.reads.n++;
        return meta[l]!;
      },
      postings: new FieldPostings(() => [...live.values()].map((l) => [l, meta[l]] as const)),
      vectorOf: (l) => vectors[l]!,
      score,
      shortlist: (q, labels, keep) => {
        probe.shortlists?.push(labels.length);
        const scored: { l: number; d: number }[] = [];
        score(q, labels, (i, d) => scored.push({ l: labels[i]!, d }));
        return scored
          .sort((a, b) => a.d - b.d)
          .slice(0, keep)
          .map((x) => x.l);
      },
      codesComplete: probe.codesComplete ?? true,
      pending,
      graph: {
        async search(q, k, _ef, allowed) {
          probe.graphCalls?.push({ filtered: allowed !== undefined });
          // A fake graph holding every item not pending, exact, plus `graphExtra`: outdated entries
          // of pending labels it still holds (the main thread must drop them).
          const all = Array.from({ length: n }, (_, i) => i).filter((i) => (!pending.has(i) || graphExtra.includes(i)) && (!allowed || bit(allowed, i)));
          return all
            .map((label) => ({ label, distance: distance("l2", q, vectors[label]!) - (graphExtra.includes(label) ? 1e9 : 0) }))
            .sort((a, b) => a.distance - b.distance)
            .slice(0, k);
        },
      },
    };
  }

  test("a selective filter is scored exactly without touching the graph", async () => {
    const graphCalls: Probe["graphCalls"] = [];
    const res = await searchIndex({ vector: [0, 1], k: 3, filter: { b: 7 } }, state(50, { graphCalls }));
    expect(graphCalls).toEqual([]);
    expect(res.hits.map((h) => h.id)).toEqual(["v7", "v107", "v207"]);
    // 500 (pending) is not among b = 7's candidates.
    expect(res.pending_scanned).toBe(0);
    const withPending = await searchIndex({ vector: [0, 1], k: 3, filter: { b: 0 } }, state(50, { graphCalls }));
    expect(withPending.pending_scanned).toBe(1);
  });

  test("an $eq condition narrows the candidates to its postings; other conditions still apply", async () => {
    const reads = { n: 0 };
    const { hits } = await searchIndex({ vector: [0, 1], k: 3, filter: { $and: [{ c: { $lt: 7 } }, { b: { $in: [7, 8] } }, { c: 0 }] } }, state(50, { reads }));
    // b in {7, 8} holds 20 items, c = 0 about 143: the planner reads the 20; c = 0 keeps multiples of 7.
    expect(reads.n).toBeLessThanOrEqual(20 + 3);
    const want = Array.from({ length: N }, (_, i) => i).filter((i) => (i % 100 === 7 || i % 100 === 8) && i % 7 === 0);
    expect(hits.map((h) => h.id)).toEqual(want.slice(0, 3).map((i) => `v${i}`));
  });

  test("a filter the postings answer whole reads no metadata but its hits'", async () => {
    const reads = { n: 0 };
    const { hits } = await searchIndex({ vector: [0, 1], k: 3, filter: { b: { $in: [7, 8] }, c: 0 } }, state(50, { reads }));
    expect(reads.n).toBe(3);
    const want = Array.from({ length: N }, (_, i) => i).filter((i) => (i % 100 === 7 || i % 100 === 8) && i % 7 === 0);
    expect(hits.map((h) => h.id)).toEqual(want.slice(0, 3).map((i) => `v${i}`));
  });

  test("many exact matches go through the int8 shortlist once every item is coded: the same hits as a full scan", async () => {
    const n = EXACT_PENDING_MAX * 4;
    // b = 3 matches n / 100 items, c < 7 all of them: 8,192 labels, more than EXACT_PENDING_MAX match c = 1..6.
    const filter = { c: { $in: [1, 2, 3, 4, 5, 6] } };
    const matching = Array.from({ length: n }, (_, i) => i).filter((i) => i % 7 !== 0);
    const want = [...matching].sort((a, b) => Math.abs(a - 4000.2) - Math.abs(b - 4000.2)).slice(0, 5);
    const shortlists: number[] = [];
    const coded = await searchIndex({ vector: [4000.2, 1], k: 5, filter }, state(n, { shortlists }, n, []));
    expect(shortlists).toEqual([matching.length]);
    expect(coded.hits.map((h) => h.id)).toEqual(want.map((i) => `v${i}`));
    const uncoded = await searchIndex({ vector: [4000.2, 1], k: 5, filter }, state(n, { shortlists, codesComplete: false }, n, []));
    expect(shortlists).toHaveLength(1);
    expect(uncoded.hits).toEqual(coded.hits);
  });

  test("a filter without $eq or $in scans every item", async () => {
    const reads = { n: 0 };
    await searchIndex({ vector: [0, 1], k: 3, filter: { b: { $lt: 1 } } }, state(50, { reads }));
    expect(reads.n).toBeGreaterThanOrEqual(N);
  });

  test("a broad filter goes to the graph as a bitmap of the matches, pending items merged in", async () => {
    const graphCalls: Probe["graphCalls"] = [];
    const res = await searchIndex({ vector: [500, 1], k: 3, filter: { b: { $gte: 1 } } }, state(50, { graphCalls }));
    expect(graphCalls).toEqual([{ filtered: true }]);
    // 500 (b = 0) fails the filter; 499 and 501 come from the graph, 502 next.
    expect(res.hits.map((h) => h.id)).toEqual(["v499", "v501", "v498"]);
    expect(res.pending_scanned).toBe(0);
  });

  test("no filter: graph results and the exact pending scan are merged; pending_scanned counts the scan", async () => {
    const graphCalls: Probe["graphCalls"] = [];
    const res = await searchIndex({ vector: [500.2, 1], k: 2 }, state(50, { graphCalls }));
    expect(graphCalls).toEqual([{ filtered: false }]);
    expect(res.hits.map((h) => h.id)).toEqual(["v500", "v501"]);
    expect(res.pending_scanned).toBe(1);
  });

  test("a graph hit on a label that is pending again (outdated in the graph) is dropped, never returned twice or with its old score", async () => {
    // The fake graph answers its stale entry of 500 first, with a distance no real item has (it took
    // one of the k places: the real worker leaves such entries out, this is the main thread's guard
    // for an entry outdated after the worker searched). 500 comes back once, from the exact scan.
    const res = await searchIndex({ vector: [10, 1], k: 3 }, state(50, {}, N, [500], [500]));
    expect(res.hits.map((h) => [h.id, h.score])).toEqual([
      ["v10", 0],
      ["v9", 1],
      ["v500", 490 ** 2],
    ]);
  });

  test("past EXACT_PENDING_MAX pending items, a shortlist is re-scored exactly: the same hits as a full scan", async () => {
    const n = EXACT_PENDING_MAX * 3;
    const pendingLabels = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 0);
    const shortlists: number[] = [];
    const res = await searchIndex({ vector: [1234.4, 1], k: 5 }, state(50, { shortlists }, n, pendingLabels));
    expect(shortlists).toEqual([pendingLabels.length]);
    expect(res.pending_scanned).toBe(pendingLabels.length);
    expect(res.hits.map((h) => h.id)).toEqual(["v1234", "v1235", "v1233", "v1236", "v1232"]);
    const few = await searchIndex({ vector: [1234.4, 1], k: 5 }, state(50, { shortlists }, EXACT_PENDING_MAX, pendingLabels.slice(0, 10)));
    expect(shortlists).toHaveLength(1);
    expect(few.pending_scanned).toBe(10);
  });
});
