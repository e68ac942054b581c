// A quantized int8 copy of acknowledged vectors, by label, for the exact scan of pending items.
// While the graph lags (100K items pending after a rebuild), every search scans the pending tail;
// in float32 that read 150 MiB per search at 100K × 384 (p50 ≈120 ms measured through the matrix
// in issue 17). One byte per dimension reads a quarter of that, and an int8 SIMD kernel
// (i32x4.dot_i16x8_s) scores 16 dimensions per step. The int8 scores only choose a shortlist:
// its members are re-scored in float32 from the slab, so the distances a search returns are
// exact (see rescoreCount for how many are re-scored).
import { Unavailable } from "../errors.ts";
import { KERNELS_WASM_BASE64 } from "./simd/kernels.wasm.ts";
import type { Metric } from "./vectors.ts";

type Kernel = (q: number, labels: number, n: number, dim: number, out: number) => void;

const PAGE = 64 * 1024;
/** Labels scored per kernel call: bounds the scratch space after the rows (512 KiB). */
const CHUNK = 65_536;

let compiled: WebAssembly.Module | undefined;
const kernelModule = () => (compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, "base64")));

/**
 * How many int8 candidates are re-scored exactly for a top-k. Per-vector scaling leaves an error
 * of about 0.4% of a dot product at 384 dimensions, enough to swap near neighbours but not to push
 * a true top-k member past 4k others: on clustered 384-d data (test/vector/codes.test.ts) a
 * shortlist of 4k (at least 64) gave the exact float32 top-k every time.
 */
export const rescoreCount = (k: number): number => Math.max(64, 4 * k);

/** Quantizes `vec` into `out` with one scale (max |x| / 127); returns the scale. */
function quantize(vec: ArrayLike<number>, out: Int8Array): number {
  let max = 0;
  for (let i = 0; i < vec.length; i++) max = Math.max(max, Math.abs(vec[i]!));
  if (max === 0) {
    out.fill(0);
    return 0;
  }
  const inv = 127 / max;
  // round(x) as trunc(x + 128.5) - 128 (x is within ±127): twice as fast as Math.round, which
  // matters when a start codes every restored vector (100K × 384 in ≈0.3 s instead of 0.6 s).
  for (let i = 0; i < vec.length; i++) out[i] = ((vec[i]! * inv + 128.5) | 0) - 128;
  return max / 127;
}

export class PendingCodes {
  private readonly memory: WebAssembly.Memory;
  private readonly kernel: Kernel;
  private rows = 0;
  private codes = new Int8Array(0);
  /** Per label: the quantization scale and the exact squared norm (for l2). */
  private scales = new Float32Array(0);
  private norms = new Float32Array(0);
  /** Bytes per row: dim rounded up to 16 so rows start aligned for the kernel's loads. */
  private readonly stride: number;

  constructor(readonly dim: number) {
    const exports = new WebAssembly.Instance(kernelModule(), {}).exports as { memory: WebAssembly.Memory; dots_i8: Kernel };
    this.memory = exports.memory;
    this.kernel = exports.dots_i8;
    this.stride = Math.ceil(dim / 16) * 16;
  }

  /** Codes the acknowledged vector of `label` (called as it is committed, with the slab). */
  set(label: number, vec: ArrayLike<number>): void {
    this.reserve(label + 1);
    let sq = 0;
    for (let i = 0; i < vec.length; i++) sq += vec[i]! * vec[i]!;
    this.scales[label] = quantize(vec, this.codes.subarray(label * this.stride, label * this.stride + this.dim));
    this.norms[label] = sq;
  }

  /**
   * The `keep` labels among `labels` nearest to `query` by the int8 scores, in no particular
   * order: the shortlist the caller re-scores exactly. All of `labels` when there are no more.
   */
  shortlist(metric: Metric, query: Float32Array, labels: ArrayLike<number>, keep: number): number[] {
    const n = labels.length;
    if (n <= keep) return Array.from(labels);
    const chunk = Math.min(CHUNK, n);
    const qAt = this.rows * this.stride;
    const labelsAt = qAt + this.stride;
    const outAt = labelsAt + chunk * 4;
    this.ensureBytes(outAt + chunk * 4);
    const buffer = this.memory.buffer;
    const q = new Int8Array(buffer, qAt, this.stride);
    q.fill(0);
    const qScale = quantize(query, q.subarray(0, this.dim));
    let qNorm = 0;
    for (let i = 0; i < this.dim; i++) qNorm += query[i]! * query[i]!;
    const ids = new Int32Array(buffer, labelsAt, chunk);
    const out = new Int32Array(buffer, outAt, chunk);
    const dist = new Float64Array(n);
    const l2 = metric === "l2";
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      for (let i = 0; i < m; i++) ids[i] = labels[start + i]!;
      this.kernel(qAt, labelsAt, m, this.stride, outAt);
      for (let i = 0; i < m; i++) {
        const label = ids[i]!;
        const dot = out[i]! * this.scales[label]! * qScale;
        dist[start + i] = l2 ? qNorm + this.norms[label]! - 2 * dot : 1 - dot;
      }
    }
    // The keep-th smallest distance by selection (linear), then every label below it and as many
    // at it as fit: a sorted top list cost more than the kernel at keep = 200.
    const cut = kthSmallest(dist.slice(), keep - 1);
    const picked: number[] = [];
    for (let i = 0; i < n; i++) if (dist[i]! < cut) picked.push(labels[i]!);
    for (let i = 0; i < n && picked.length < keep; i++) if (dist[i] === cut) picked.push(labels[i]!);
    return picked;
  }

  /** Codes the vectors of `labels` from `slab` (the restored rows, coded after a start). */
  codeFrom(slab: { get(label: number): Float32Array }, labels: ArrayLike<number>): void {
    let rows = 0;
    for (let i = 0; i < labels.length; i++) rows = Math.max(rows, labels[i]! + 1);
    this.reserve(rows);
    for (let i = 0; i < labels.length; i++) this.set(labels[i]!, slab.get(labels[i]!));
  }

  /** Makes room for labels below `rows` (before a write is logged: applying it must not fail). */
  reserve(rows: number): void {
    if (rows <= this.rows) return;
    const want = Math.max(rows, Math.ceil(this.rows * 1.5), 1024);
    this.ensureBytes(want * this.stride);
    this.rows = want;
    const scales = new Float32Array(want);
    scales.set(this.scales);
    this.scales = scales;
    const norms = new Float32Array(want);
    norms.set(this.norms);
    this.norms = norms;
    this.codes = new Int8Array(this.memory.buffer, 0, want * this.stride);
  }

  private ensureBytes(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch (err) {
        if (err instanceof RangeError)
          throw new Unavailable("the vector index cannot grow: the process is out of memory for vectors", undefined, { cause: err });
        throw err;
      }
    }
    // Growing detaches the old buffer: the view must be made again.
    this.codes = new Int8Array(this.memory.buffer, 0, this.rows * this.stride);
  }
}

/** The value that would sit at index `k` if `a` were sorted ascending (Hoare's selection; reorders `a`). */
function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}
