// The int8 copy the pending scan reads: the kernel's integer dot products are exact, and a
// shortlist of rescoreCount(k) re-scored in float32 gives the same top k as a full float32 scan.
import { describe, expect, test } from "bun:test";
import { PendingCodes, rescoreCount } from "../../src/vector/codes.ts";
import { VectorSlab } from "../../src/vector/slab.ts";
import { TopK } from "../../src/vector/topk.ts";
import { toVector } from "../../src/vector/vectors.ts";
import { clustered, clusteredSplit, row } from "../support/vectors.ts";

function exactTop(slab: VectorSlab, metric: "cosine" | "l2" | "ip", q: Float32Array, labels: number[], k: number): number[] {
  const top = new TopK(k);
  slab.score(metric, q, labels, (i, d) => top.offer(labels[i]!, d));
  return top.sorted().map((s) => s.label);
}

describe("pending codes (int8)", () => {
  test("the int8 kernel's dot products are exact for dimensions that are not multiples of 16", () => {
    for (const dim of [1, 7, 16, 33, 384]) {
      const codes = new PendingCodes(dim);
      // Rows whose largest element is 1: codes are round(x * 127), known here.
      const rows = Array.from({ length: 20 }, (_, l) => Float32Array.from({ length: dim }, (_, i) => (i === l % dim ? 1 : Math.sin(l * 7 + i) * 0.9)));
      for (const [l, r] of rows.entries()) codes.set(l, r);
      const q = Float32Array.from({ length: dim }, (_, i) => (i === 0 ? 1 : Math.cos(i) * 0.5));
      const code = (v: Float32Array) => Array.from(v, (x) => Math.round(x * 127));
      const qc = code(q);
      const want = rows.map((r) => code(r).reduce((s, c, i) => s + c * qc[i]!, 0) * (1 / 127) * (1 / 127));
      // Through the shortlist's ordering under ip (distance 1 - dot): the nearest by integer dot first.
      const shortlist = codes.shortlist(
        "ip",
        q,
        rows.map((_, l) => l),
        5,
      );
      const best = want
        .map((d, l) => ({ l, d }))
        .sort((a, b) => b.d - a.d)
        .slice(0, 5)
        .map((x) => x.l);
      expect(new Set(shortlist)).toEqual(new Set(best));
    }
  });

  for (const metric of ["cosine", "ip", "l2"] as const) {
    test(`${metric}: a re-scored shortlist gives the exact float32 top k on clustered 384-d data`, () => {
      const dim = 384;
      const n = 6000;
      const { data, queries } = clusteredSplit(n, 40, dim, { clusters: 30, seed: 11 });
      const slab = new VectorSlab(dim, n);
      const codes = new PendingCodes(dim);
      for (let l = 0; l < n; l++) {
        const v = toVector(row(data, dim, l), dim, metric, "v") as Float32Array;
        slab.set(l, v);
        codes.set(l, v);
      }
      // A pending set in no particular order, with holes, as the pending map gives it.
      const labels = Array.from({ length: n }, (_, l) => (l * 7919) % n).filter((l) => l % 5 !== 0);
      for (const k of [1, 10, 50]) {
        for (let qi = 0; qi < 40; qi++) {
          const q = toVector(row(queries, dim, qi), dim, metric, "q") as Float32Array;
          const shortlist = codes.shortlist(metric, q, labels, rescoreCount(k));
          expect(shortlist).toHaveLength(rescoreCount(k));
          expect(exactTop(slab, metric, q, shortlist, k)).toEqual(exactTop(slab, metric, q, labels, k));
        }
      }
    });
  }

  test("a shortlist of everything when there are no more labels than asked; codes follow an overwrite", () => {
    const dim = 8;
    const data = clustered(10, dim, { seed: 2 });
    const codes = new PendingCodes(dim);
    for (let l = 0; l < 10; l++) codes.set(l, row(data, dim, l));
    expect(codes.shortlist("l2", Float32Array.from(row(data, dim, 3)), [3, 4, 5], 64).sort()).toEqual([3, 4, 5]);
    const far = Array.from({ length: dim }, () => 100);
    codes.set(2, far);
    expect(codes.shortlist("l2", Float32Array.from(far), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1)).toEqual([2]);
  });
});
