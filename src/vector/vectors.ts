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

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** What the API reports: similarity for cosine and ip (higher is closer), squared L2 distance for l2 (lower is closer). */
export function scoreOf(metric: Metric, dist: number): number {
  return metric === "l2" ? dist : 1 - dist;
}
