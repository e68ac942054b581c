// Synthetic clustered vectors (seeded, reproducible) and exact brute-force neighbours, for the
// recall test and the benchmark.
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/** `n` unit vectors drawn around `clusters` random centres; row i is data[i*dim..]. */
export function clustered(n: number, dim: number, opts: { clusters?: number; spread?: number; seed?: number } = {}): Float32Array {
  const rand = rng(opts.seed ?? 1);
  const clusters = opts.clusters ?? 50;
  const spread = opts.spread ?? 0.35;
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(rand);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * clusters);
    let sq = 0;
    for (let j = 0; j < dim; j++) {
      const x = centres[c * dim + j]! + spread * gaussian(rand);
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
