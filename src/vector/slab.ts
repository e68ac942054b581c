// Every acknowledged vector, by label, in one growable float32 slab. Exact scoring (pending
// items, filtered candidate sets) reads it directly: hnswlib's getPoint costs ≈13 µs per call.
// The slab lives in the memory of a small WebAssembly module whose f32x4 kernels score a batch of
// labels against a query 2.1–2.5× faster than a JavaScript loop (10,000 candidates at 384
// dimensions: 1.8 ms against 4.1 ms); past the CPU caches the scan is bound by memory bandwidth.
import { TooLarge, Unavailable } from "../errors.ts";
import { KERNELS_WASM_BASE64 } from "./simd/kernels.wasm.ts";
import type { Metric } from "./vectors.ts";

type Kernel = (q: number, labels: number, n: number, dim: number, out: number) => void;

const PAGE = 64 * 1024;
/** Labels scored per kernel call: bounds the scratch space after the rows (512 KiB). */
const CHUNK = 65_536;
/** wasm32 addresses 4 GiB; the rows and the scratch (query, labels, results) must fit below it. */
const MAX_SLAB_BYTES = 4 * 1024 ** 3 - 16 * PAGE - CHUNK * 8;

let compiled: WebAssembly.Module | undefined;
const kernelModule = () => (compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, "base64")));

export class VectorSlab {
  private readonly memory: WebAssembly.Memory;
  private readonly dots: Kernel;
  private readonly l2s: Kernel;
  private rows: number;
  private data: Float32Array;

  constructor(
    readonly dim: number,
    capacity = 1024,
    private readonly maxBytes = MAX_SLAB_BYTES,
  ) {
    const exports = new WebAssembly.Instance(kernelModule(), {}).exports as { memory: WebAssembly.Memory; dots: Kernel; l2s: Kernel };
    this.memory = exports.memory;
    this.dots = exports.dots;
    this.l2s = exports.l2s;
    this.rows = 0;
    this.data = new Float32Array(0);
    this.reserve(Math.max(1, capacity));
  }

  /** Makes room for labels below `rows`; throws TooLarge (changing nothing) when it cannot. */
  reserve(rows: number): void {
    if (rows <= this.rows) return;
    const grown = Math.max(rows, Math.ceil(this.rows * 1.5));
    const want = Math.min(grown, Math.floor(this.maxBytes / (this.dim * 4)));
    if (want < rows) {
      throw new TooLarge(`a vector index of ${this.dim} dimensions holds at most ${Math.floor(this.maxBytes / (this.dim * 4))} items`, { dim: this.dim });
    }
    this.ensureBytes(want * this.dim * 4);
    this.rows = want;
    this.data = new Float32Array(this.memory.buffer, 0, want * this.dim);
  }

  set(label: number, vec: ArrayLike<number>): void {
    this.reserve(label + 1);
    this.data.set(vec, label * this.dim);
  }

  /** A view valid until the next `set`, `reserve` or `score`; copy it to keep it. */
  get(label: number): Float32Array {
    return this.data.subarray(label * this.dim, (label + 1) * this.dim);
  }

  /** Calls `visit(i, distance)` with the metric's distance (as hnswlib computes it) from `query` to each of `labels`. */
  score(metric: Metric, query: Float32Array, labels: ArrayLike<number>, visit: (index: number, distance: number) => void): void {
    const n = labels.length;
    if (n === 0) return;
    const chunk = Math.min(CHUNK, n);
    const qAt = this.rows * this.dim * 4;
    const labelsAt = qAt + this.dim * 4;
    const outAt = labelsAt + chunk * 4;
    this.ensureBytes(outAt + chunk * 4);
    const buffer = this.memory.buffer;
    new Float32Array(buffer, qAt, this.dim).set(query);
    const ids = new Int32Array(buffer, labelsAt, chunk);
    const out = new Float32Array(buffer, outAt, chunk);
    const kernel = metric === "l2" ? this.l2s : this.dots;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      for (let i = 0; i < m; i++) ids[i] = labels[start + i]!;
      kernel(qAt, labelsAt, m, this.dim, outAt);
      if (metric === "l2") for (let i = 0; i < m; i++) visit(start + i, out[i]!);
      else for (let i = 0; i < m; i++) visit(start + i, 1 - out[i]!);
    }
  }

  get bytes(): number {
    return this.rows * this.dim * 4;
  }

  private ensureBytes(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (err) {
      // The engine could not reserve the memory (RangeError): refuse the write, keep what is held.
      if (err instanceof RangeError) throw new Unavailable("the vector index cannot grow: the process is out of memory for vectors", undefined, { cause: err });
      throw err;
    }
    // Growing detaches the old buffer: every view must be made again.
    this.data = new Float32Array(this.memory.buffer, 0, this.rows * this.dim);
  }
}
