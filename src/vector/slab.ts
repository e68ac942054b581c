import { distanceAt, type Metric } from "./vectors.ts";

// Every acknowledged vector, by label, in one growable float32 slab. Exact scoring (pending
// items, small filtered candidate sets) reads it directly: hnswlib's getPoint costs ≈13 µs per
// call, too slow to score a thousand candidates within a search.
export class VectorSlab {
  private data: Float32Array;

  constructor(
    readonly dim: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(dim * Math.max(1, capacity));
  }

  set(label: number, vec: ArrayLike<number>): void {
    const need = (label + 1) * this.dim;
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, Math.ceil(this.data.length * 1.5)));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(vec, label * this.dim);
  }

  /** A view valid until the next `set`; copy it to keep it. */
  get(label: number): Float32Array {
    return this.data.subarray(label * this.dim, (label + 1) * this.dim);
  }

  /** The metric's distance from `query` to the vector at `label`, without a view per call. */
  distanceTo(metric: Metric, query: Float32Array, label: number): number {
    return distanceAt(metric, query, this.data, label * this.dim);
  }

  get bytes(): number {
    return this.data.byteLength;
  }
}
