// Synthetic clustered vectors (seeded, reproducible) and exact brute-force neighbours, for the
// vector tests and the benchmarks: scripts/bench/vector.ts and vector-simd.ts import this on
// purpose, so keep it free of bun:test.
import type { Metric } from "../../src/vector/vectors.ts";
import { gaussian, rng } from "./random.ts";

/**
 * `n` unit vectors around `clusters` random centres; row i is data[i*dim..]. Within a cluster,
 * points vary mostly along a few cluster-specific directions plus a little isotropic noise, so
 * the data has a low intrinsic dimension like real embeddings (isotropic noise in 768
 * dimensions makes every point nearly equidistant from its cluster-mates, which no real
 * embedding set looks like).
 */
export function clustered(n: number, dim: number, opts: { clusters?: number; latent?: number; seed?: number } = {}): Float32Array {
  const rand = rng(opts.seed ?? 1);
  const clusters = opts.clusters ?? 50;
  const latent = opts.latent ?? 12;
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(rand);
  const bases = new Float32Array(clusters * latent * dim);
  for (let i = 0; i < bases.length; i++) bases[i] = gaussian(rand) * 0.5;
  const out = new Float32Array(n * dim);
  const g = new Float32Array(latent);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * clusters);
    for (let l = 0; l < latent; l++) g[l] = gaussian(rand);
    let sq = 0;
    for (let j = 0; j < dim; j++) {
      let x = centres[c * dim + j]! + 0.1 * gaussian(rand);
      for (let l = 0; l < latent; l++) x += g[l]! * bases[(c * latent + l) * dim + j]!;
      out[i * dim + j] = x;
      sq += x * x;
    }
    const norm = Math.sqrt(sq);
    for (let j = 0; j < dim; j++) out[i * dim + j]! /= norm;
  }
  return out;
}

export const row = (data: Float32Array, dim: number, i: number): number[] => Array.from(data.subarray(i * dim, (i + 1) * dim));

/** Indices of the k nearest rows to `q` by cosine (data rows are unit-length). */
export function exactKnn(data: Float32Array, dim: number, q: ArrayLike<number>, k: number, accept?: (i: number) => boolean): number[] {
  const n = data.length / dim;
  let qn = 0;
  for (let j = 0; j < dim; j++) qn += q[j]! * q[j]!;
  qn = Math.sqrt(qn);
  const best: { i: number; s: number }[] = [];
  for (let i = 0; i < n; i++) {
    if (accept && !accept(i)) continue;
    let s = 0;
    const off = i * dim;
    for (let j = 0; j < dim; j++) s += data[off + j]! * q[j]!;
    s /= qn;
    if (best.length < k || s > best[best.length - 1]!.s) {
      best.push({ i, s });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

/** Data and queries drawn from the same mixture (same centres), as separate row sets. */
export function clusteredSplit(
  n: number,
  q: number,
  dim: number,
  opts: { clusters?: number; latent?: number; seed?: number } = {},
): { data: Float32Array; queries: Float32Array } {
  const all = clustered(n + q, dim, opts);
  return { data: all.slice(0, n * dim), queries: all.slice(n * dim) };
}

/** The distance hnswlib computes for the metric (smaller is closer), in double precision: the reference the slab's kernels are checked against. */
export function distance(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  if (metric === "l2") {
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!;
      s += d * d;
    }
    return s;
  }
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return 1 - s;
}
