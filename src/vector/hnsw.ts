// The only file that imports hnswlib-node. hnswlib aborts the whole process on a non-number
// element or a throwing filter callback, silently coerces labels to uint32, stores NaN, forgets
// `ef` and the dimension on save, and throws past its capacity. Everything that crosses into it
// goes through the checks below, so none of that can happen from the rest of the project.
import { closeSync, openSync, readSync, renameSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
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
/** Then mult (double) and ef_construction (size_t): the level-0 block starts at byte 96. */
const HEADER_BYTES = 96;

/** Where each element's parts lie in the level-0 block that follows the header. */
interface Layout {
  count: number;
  elementBytes: number;
  labelOffset: number;
  dataOffset: number;
}

function checkHeader(path: string, p: GraphParams): Layout {
  const header = Buffer.alloc(HEADER_BYTES);
  const fd = openSync(path, "r");
  try {
    if (readSync(fd, header, 0, HEADER_BYTES, 0) < HEADER_BYTES) throw new Error("saved graph is truncated");
  } finally {
    closeSync(fd);
  }
  const elementBytes = header.readBigUInt64LE(24);
  const labelOffset = header.readBigUInt64LE(32);
  const dataOffset = header.readBigUInt64LE(40);
  const vectorBytes = Number(labelOffset - dataOffset);
  const m = Number(header.readBigUInt64LE(72));
  const maxElements = header.readBigUInt64LE(8);
  const count = header.readBigUInt64LE(16);
  // hnswlib allocates for maxElements before it looks further (2^40 failed as "not enough memory";
  // a smaller lie would be allocated and zeroed). Graphs here never hold more than 1.5 × count + 1
  // (add grows by 1.5×, a rebuild sizes for 1.25 × live + 16), nor less than MIN_CAPACITY.
  if (count > maxElements || maxElements > 2n * count + BigInt(MIN_CAPACITY)) throw new Error("saved graph's capacity does not match its element count");
  if (vectorBytes !== p.dim * 4) throw new Error(`saved graph holds ${vectorBytes / 4}-dimensional vectors, the index has ${p.dim}`);
  if (m !== p.m) throw new Error(`saved graph has M=${m}, the index has M=${p.m}`);
  if (labelOffset + 8n > elementBytes) throw new Error("saved graph's element layout is inconsistent");
  return { count: Number(count), elementBytes: Number(elementBytes), labelOffset: Number(labelOffset), dataOffset: Number(dataOffset) };
}

/** Bytes of the level-0 block read at a time by readGraphVectors: ≈5,000 elements at 384 dimensions. */
const VECTOR_READ_BYTES = 8 * 1024 * 1024;

/**
 * Hands every element's label and stored vector (unit length under cosine, as getPoint gives it)
 * to `visit`, read straight from a saved graph's level-0 block. Filling an index's vector slab
 * from getPoint cost 1.4 s for 100K × 384 (a JS array per call, then a copy); this reads the same
 * floats in ≈0.1 s, asynchronously, so it overlaps hnswlib's own load on the thread pool. The view
 * passed to `visit` is valid only during the call.
 */
export async function readGraphVectors(path: string, params: GraphParams, visit: (label: number, vector: Float32Array) => void): Promise<void> {
  const layout = checkHeader(path, params);
  const perRead = Math.max(1, Math.floor(VECTOR_READ_BYTES / layout.elementBytes));
  const buffer = Buffer.alloc(perRead * layout.elementBytes);
  // The layout's offsets are multiples of 4 in every graph hnswlib writes (links are uint32, the
  // vector float32, the label 8 bytes); a view needs that alignment, a copy does not.
  const aligned = layout.elementBytes % 4 === 0 && layout.dataOffset % 4 === 0 && buffer.byteOffset % 4 === 0;
  const file = await openFile(path, "r");
  try {
    for (let first = 0; first < layout.count; first += perRead) {
      const n = Math.min(perRead, layout.count - first);
      const want = n * layout.elementBytes;
      const { bytesRead } = await file.read(buffer, 0, want, HEADER_BYTES + first * layout.elementBytes);
      if (bytesRead < want) throw new Error("saved graph is truncated");
      for (let i = 0; i < n; i++) {
        const at = i * layout.elementBytes;
        const label = Number(buffer.readBigUInt64LE(at + layout.labelOffset));
        const from = at + layout.dataOffset;
        const vector = aligned
          ? new Float32Array(buffer.buffer, buffer.byteOffset + from, params.dim)
          : new Float32Array(buffer.buffer.slice(buffer.byteOffset + from, buffer.byteOffset + from + params.dim * 4));
        visit(label, vector);
      }
    }
  } finally {
    await file.close();
  }
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
