// The only file that imports hnswlib-node. hnswlib aborts the whole process on a non-number
// element or a throwing filter callback, silently coerces labels to uint32, stores NaN, forgets
// `ef` and the dimension on save, and throws past its capacity. Everything that crosses into it
// goes through the checks below, so none of that can happen from the rest of the project.
import { closeSync, openSync, readSync, renameSync } from "node:fs";
import { HierarchicalNSW } from "hnswlib-node";
import { fsyncPathSync } from "../lib/fsync.ts";
import type { Metric } from "./vectors.ts";

export interface GraphParams {
  dim: number;
  metric: Metric;
  m: number;
  efConstruction: number;
}

export interface GraphHit {
  label: number;
  distance: number;
}

const MAX_LABEL = 2 ** 32 - 1;
const MIN_CAPACITY = 1024;

function assertLabel(label: number): void {
  if (!Number.isInteger(label) || label < 0 || label > MAX_LABEL) throw new Error(`label ${label} is not a uint32`);
}

function toPlainChecked(vec: Float32Array, p: GraphParams): number[] {
  if (vec.length !== p.dim) throw new Error(`vector has ${vec.length} dimensions, index has ${p.dim}`);
  const out = new Array<number>(vec.length);
  let sq = 0;
  for (let i = 0; i < vec.length; i++) {
    const x = vec[i]!;
    if (!Number.isFinite(x)) throw new Error("vector element is not finite");
    out[i] = x;
    sq += x * x;
  }
  if (p.metric === "cosine" && !(sq > 0)) throw new Error("zero vector under cosine");
  return out;
}

/**
 * hnswlib's file starts with size_t fields: offsetLevel0, maxElements, count, sizeDataPerElement,
 * labelOffset, offsetData, then int maxLevel, uint enterpoint, size_t maxM, maxM0, M. The vector
 * bytes per element are labelOffset - offsetData.
 */
function checkHeader(path: string, p: GraphParams): void {
  const header = Buffer.alloc(80);
  const fd = openSync(path, "r");
  try {
    if (readSync(fd, header, 0, 80, 0) < 80) throw new Error("saved graph is truncated");
  } finally {
    closeSync(fd);
  }
  const vectorBytes = Number(header.readBigUInt64LE(32) - header.readBigUInt64LE(40));
  const m = Number(header.readBigUInt64LE(72));
  const maxElements = header.readBigUInt64LE(8);
  const count = header.readBigUInt64LE(16);
  // hnswlib allocates for maxElements before it looks further (2^40 failed as "not enough memory";
  // a smaller lie would be allocated and zeroed). Graphs here never hold more than 1.5 × count + 1
  // (add grows by 1.5×, a rebuild sizes for 1.25 × live + 16), nor less than MIN_CAPACITY.
  if (count > maxElements || maxElements > 2n * count + BigInt(MIN_CAPACITY)) throw new Error("saved graph's capacity does not match its element count");
  if (vectorBytes !== p.dim * 4) throw new Error(`saved graph holds ${vectorBytes / 4}-dimensional vectors, the index has ${p.dim}`);
  if (m !== p.m) throw new Error(`saved graph has M=${m}, the index has M=${p.m}`);
}

export class Graph {
  private constructor(
    private readonly index: HierarchicalNSW,
    readonly params: GraphParams,
  ) {}

  static create(params: GraphParams, capacity: number): Graph {
    const index = new HierarchicalNSW(params.metric, params.dim);
    index.initIndex({ maxElements: Math.max(MIN_CAPACITY, capacity), m: params.m, efConstruction: params.efConstruction });
    return new Graph(index, params);
  }

  /**
   * Loads a saved graph into a fresh object (never into one being searched). hnswlib would load a
   * file of another dimension without complaint and return garbage, so the file's header is
   * checked against `params` first.
   */
  static load(path: string, params: GraphParams): Graph {
    checkHeader(path, params);
    const index = new HierarchicalNSW(params.metric, params.dim);
    index.readIndexSync(path);
    return new Graph(index, params);
  }

  /** Elements in the graph, including ones marked deleted. */
  get size(): number {
    return this.index.getCurrentCount();
  }

  get capacity(): number {
    return this.index.getMaxElements();
  }

  /** Inserts or replaces the vector at `label`; a label marked deleted comes back live. */
  add(label: number, vec: Float32Array): void {
    assertLabel(label);
    const plain = toPlainChecked(vec, this.params);
    if (this.index.getCurrentCount() >= this.index.getMaxElements()) {
      this.index.resizeIndex(Math.max(MIN_CAPACITY, Math.ceil(this.index.getMaxElements() * 1.5)));
    }
    this.index.addPoint(plain, label);
  }

  markDeleted(label: number): void {
    assertLabel(label);
    this.index.markDelete(label);
  }

  /** The stored vector (unit-length under cosine). */
  vector(label: number): Float32Array {
    assertLabel(label);
    return Float32Array.from(this.index.getPoint(label));
  }

  /**
   * Nearest `k` by distance. `accept` runs inside the graph walk; an exception in it would abort
   * the process, so it is wrapped and a throwing callback rejects the label instead.
   */
  search(query: Float32Array, k: number, ef: number, accept?: (label: number) => boolean): GraphHit[] {
    const plain = toPlainChecked(query, this.params);
    const n = Math.min(k, this.index.getCurrentCount());
    if (n <= 0) return [];
    // Searches are synchronous and the event loop is single-threaded, so setting ef per call is safe.
    this.index.setEf(Math.max(ef, n));
    const filter = accept
      ? (label: number) => {
          try {
            return accept(label) === true;
          } catch {
            return false;
          }
        }
      : undefined;
    const res = filter ? this.index.searchKnn(plain, n, filter) : this.index.searchKnn(plain, n);
    return res.neighbors.map((label, i) => ({ label, distance: res.distances[i]! }));
  }

  /** Writes the graph to `path` atomically: a synchronous write of a temp file, fsync, rename. */
  save(path: string): void {
    const tmp = `${path}.tmp`;
    this.index.writeIndexSync(tmp);
    fsyncPathSync(tmp);
    renameSync(tmp, path);
  }
}
