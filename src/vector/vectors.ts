// Vector checks and arithmetic, pure. Every vector is converted to float32 and checked here before
// it can reach native code: hnswlib aborts the process on a non-number and stores NaN silently.
export type Metric = "cosine" | "l2" | "ip";

export interface VectorProblem {
  path: string;
  message: string;
}

/**
 * Converts `input` to a Float32Array of length `dim`, or explains why it cannot be one. Finite
 * numbers that overflow float32 (|x| > 3.4e38) are rejected too: they would become Infinity.
 * Under cosine the vector is returned unit-length, as the graph stores it.
 */
export function toVector(input: unknown, dim: number, metric: Metric, path: string): Float32Array | VectorProblem {
  if (!Array.isArray(input)) return { path, message: "expected an array of numbers" };
  if (input.length !== dim) return { path, message: `expected ${dim} dimensions, got ${input.length}` };
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const x = input[i];
    if (typeof x !== "number") return { path: `${path}[${i}]`, message: "expected a number" };
    out[i] = x;
    if (!Number.isFinite(out[i]!)) return { path: `${path}[${i}]`, message: "expected a finite number within float32 range" };
  }
  if (metric === "cosine") {
    const n = norm(out);
    if (n === 0 || !Number.isFinite(n)) return { path, message: "a zero vector has no direction; cosine needs a non-zero norm" };
    for (let i = 0; i < dim; i++) out[i]! /= n;
  }
  return out;
}

export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** The distance hnswlib computes for the metric (smaller is closer), so exact and graph results merge. */
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

/** What the API reports: similarity for cosine and ip (higher is closer), squared L2 distance for l2 (lower is closer). */
export function scoreOf(metric: Metric, dist: number): number {
  return metric === "l2" ? dist : 1 - dist;
}

/**
 * `distance` between `query` and the vector stored at `offset` in `data` (a slab of vectors), read
 * in place: an exact scan scores thousands of candidates per search, and a view per candidate
 * would cost as much as the arithmetic. Four accumulators let the loop pipeline.
 */
export function distanceAt(metric: Metric, query: Float32Array, data: Float32Array, offset: number): number {
  const n = query.length;
  const m = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  if (metric === "l2") {
    for (; i < m; i += 4) {
      const d0 = query[i]! - data[offset + i]!;
      const d1 = query[i + 1]! - data[offset + i + 1]!;
      const d2 = query[i + 2]! - data[offset + i + 2]!;
      const d3 = query[i + 3]! - data[offset + i + 3]!;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < n; i++) {
      const d = query[i]! - data[offset + i]!;
      s0 += d * d;
    }
    return s0 + s1 + s2 + s3;
  }
  for (; i < m; i += 4) {
    s0 += query[i]! * data[offset + i]!;
    s1 += query[i + 1]! * data[offset + i + 1]!;
    s2 += query[i + 2]! * data[offset + i + 2]!;
    s3 += query[i + 3]! * data[offset + i + 3]!;
  }
  for (; i < n; i++) s0 += query[i]! * data[offset + i]!;
  return 1 - (s0 + s1 + s2 + s3);
}
