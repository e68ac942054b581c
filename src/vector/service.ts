// The vector indexes of this process, and the typed interface other modules (matrix) call
// in-process: create, list, get, drop, upsert, search, get/delete items.
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { BadRequest, Conflict, NotFound, TooLarge, Unavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { VectorConfig } from "./config.ts";
import { Graph, type GraphParams } from "./hnsw.ts";
import type { Metadata } from "../filter/compile.ts";
import type { UpsertItem } from "./items.ts";
import { type IndexStats, type IndexTuning, type ItemView, LiveIndex, type RestoredState } from "./live-index.ts";
import type { SearchHit, SearchRequest } from "./search.ts";
import {
  commitSnapshot,
  deleteIndexObjects,
  fetchGraphFile,
  type IndexParams,
  listIndexNames,
  type Manifest,
  manifestKey,
  readEnvelope,
  readManifest,
} from "./snapshot.ts";
import type { Metric } from "./vectors.ts";
import { Wal } from "./wal.ts";

export const INDEX_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const MAX_DIM = 16_384;

export interface CreateIndexInput {
  name: string;
  dim: number;
  metric?: Metric;
  m?: number;
  ef_construction?: number;
  ef_search?: number;
}

export interface IndexInfo extends IndexParams, IndexStats {
  /** Bytes kept for the index: the current snapshot in the object store plus its local log. */
  bytes: number;
  /** The log sequence the current snapshot holds; a restart replays the log after it. */
  snapshot_seq: number;
  created_at: string;
}

export interface VectorService {
  createIndex(input: CreateIndexInput): Promise<IndexInfo>;
  listIndexes(): IndexInfo[];
  getIndex(name: string): IndexInfo;
  dropIndex(name: string): Promise<void>;
  /** Durable when it returns: the batch is in the fsynced log. */
  upsert(name: string, items: readonly UpsertItem[]): { upserted: number; seq: number };
  search(name: string, req: SearchRequest): SearchHit[];
  getItem(name: string, id: string): ItemView;
  /** An item's metadata (null when it has none) without copying its vector; undefined for an unknown id. */
  getMetadata(name: string, id: string): Metadata | undefined;
  deleteItems(name: string, ids: readonly string[]): { deleted: number; seq: number };
  /** Indexes that failed to load at start-up (corrupt log or snapshot): unavailable until dropped. */
  unavailable(): string[];
  /** Resolves once the graph holds every acknowledged write of the index (tests and benchmarks). */
  waitIndexed(name: string): Promise<void>;
}

interface Entry {
  index: LiveIndex;
  manifest: Manifest;
  dir: string;
}

export class VectorIndexes implements VectorService {
  private readonly entries = new Map<string, Entry>();
  /** Names being created or dropped: a second create or drop of them is a conflict. */
  private readonly busy = new Set<string>();
  /** Indexes that failed to load, with the reason (for the log; callers get a generic message). */
  private readonly failed = new Map<string, string>();
  private readonly tuning: IndexTuning;

  private constructor(
    private readonly store: ObjectStore,
    private readonly config: VectorConfig,
    private readonly walRoot: string,
    private readonly log: Logger,
  ) {
    this.tuning = { compactAfterBytes: config.compact_after_bytes, rebuildDeletedRatio: config.rebuild_deleted_ratio, exactFilterMax: config.exact_filter_max };
  }

  /** Loads every index: its snapshot from the store, then the log after it. */
  static async open(store: ObjectStore, config: VectorConfig, walRoot: string, log: Logger): Promise<VectorIndexes> {
    const svc = new VectorIndexes(store, config, walRoot, log);
    mkdirSync(walRoot, { recursive: true });
    for (const name of await listIndexNames(store)) {
      const started = performance.now();
      try {
        const entry = await svc.load(await readManifest(store, name));
        svc.entries.set(name, entry);
        log.info("vector index loaded", { index: name, count: entry.index.count, pending: entry.index.stats().pending, ms: Math.round(performance.now() - started) });
      } catch (err) {
        // One damaged index must not take the process (and every other index) down with it, nor
        // be silently emptied: it stays on disk, unavailable, until an operator repairs or drops it.
        const reason = err instanceof Error ? err.message : String(err);
        svc.failed.set(name, reason);
        log.error("vector index failed to load; it is unavailable until repaired or dropped", { index: name, error: reason });
      }
    }
    return svc;
  }

  async createIndex(input: CreateIndexInput): Promise<IndexInfo> {
    const params = this.paramsFor(input);
    if (this.entries.has(params.name) || this.busy.has(params.name) || this.failed.has(params.name)) throw new Conflict(`index "${params.name}" already exists`);
    this.busy.add(params.name);
    try {
      const manifest: Manifest = { version: 1, params, created_at: new Date().toISOString(), snapshot: null };
      const dir = join(this.walRoot, params.name);
      const wal = Wal.create(dir, params.dim);
      await this.store.putIfAbsent(manifestKey(params.name), JSON.stringify(manifest));
      const entry = this.makeEntry(manifest, dir, wal, { graph: Graph.create(graphParams(params), 0), seq: 0, items: [] });
      this.entries.set(params.name, entry);
      return this.info(entry);
    } finally {
      this.busy.delete(params.name);
    }
  }

  listIndexes(): IndexInfo[] {
    return [...this.entries.values()].sort((a, b) => (a.manifest.params.name < b.manifest.params.name ? -1 : 1)).map((e) => this.info(e));
  }

  getIndex(name: string): IndexInfo {
    return this.info(this.entry(name));
  }

  unavailable(): string[] {
    return [...this.failed.keys()].sort();
  }

  async dropIndex(name: string): Promise<void> {
    if (this.failed.has(name) && !this.busy.has(name)) {
      this.busy.add(name);
      try {
        await deleteIndexObjects(this.store, name);
        await rm(join(this.walRoot, name), { recursive: true, force: true });
        this.failed.delete(name);
      } finally {
        this.busy.delete(name);
      }
      return;
    }
    const entry = this.entry(name);
    this.entries.delete(name);
    this.busy.add(name);
    try {
      await entry.index.applier.stop();
      entry.index.wal.destroy();
      await deleteIndexObjects(this.store, name);
    } finally {
      this.busy.delete(name);
    }
  }

  upsert(name: string, items: readonly UpsertItem[]): { upserted: number; seq: number } {
    this.checkBatch(items.length);
    return this.entry(name).index.upsert(items);
  }

  search(name: string, req: SearchRequest): SearchHit[] {
    return this.entry(name).index.search(req);
  }

  getItem(name: string, id: string): ItemView {
    return this.entry(name).index.getItem(id);
  }

  getMetadata(name: string, id: string): Metadata | undefined {
    return this.entry(name).index.getMetadata(id);
  }

  deleteItems(name: string, ids: readonly string[]): { deleted: number; seq: number } {
    this.checkBatch(ids.length);
    return this.entry(name).index.delete(ids);
  }

  waitIndexed(name: string): Promise<void> {
    return this.entry(name).index.applier.idle();
  }

  /** Stops indexing; an index whose graph caught up gets a final snapshot so the next start is quick. */
  async close(): Promise<void> {
    for (const entry of this.entries.values()) {
      const { index } = entry;
      await index.applier.stop();
      if (index.applier.queued === 0 && index.applier.appliedSeq > index.applier.snapshotSeq) await index.applier.startSnapshot();
      index.wal.close();
    }
    this.entries.clear();
  }

  get totalPending(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.index.stats().pending;
    return n;
  }

  private async load(manifest: Manifest): Promise<Entry> {
    const { params } = manifest;
    const dir = join(this.walRoot, params.name);
    mkdirSync(dir, { recursive: true });
    let restored: RestoredState = { graph: Graph.create(graphParams(params), 0), seq: 0, items: [] };
    if (manifest.snapshot) {
      const file = await fetchGraphFile(this.store, manifest.snapshot.graph, dir);
      let graph: Graph;
      try {
        graph = Graph.load(file.path, graphParams(params));
      } finally {
        await file.release();
      }
      const env = await readEnvelope(this.store, manifest.snapshot.envelope);
      restored = { graph, seq: env.seq, items: env.labels.map((label, i) => ({ label, id: env.ids[i]!, metadata: env.metadata[i] ?? null })) };
    }
    const wal = new Wal(dir, params.dim);
    const entry = this.makeEntry(manifest, dir, wal, restored);
    let report: ReturnType<Wal["open"]>;
    try {
      report = wal.open(restored.seq, (rec) => entry.index.apply(rec));
    } catch (err) {
      // Replay may have queued graph work; it must not go on (or snapshot) for an index that failed.
      await entry.index.applier.stop();
      wal.close();
      throw err;
    }
    if (report.droppedBytes > 0) this.log.warn("vector log had a torn tail; dropped it", { index: params.name, bytes: report.droppedBytes });
    return entry;
  }

  private makeEntry(manifest: Manifest, dir: string, wal: Wal, restored: RestoredState): Entry {
    const entry = { manifest, dir } as Entry;
    entry.index = new LiveIndex(manifest.params, wal, restored, this.tuning, { snapshot: () => this.snapshot(entry) }, this.log);
    return entry;
  }

  /** Synchronously saves the graph-side state, then uploads it; old log segments go once the manifest points at it. */
  private async snapshot(entry: Entry): Promise<void> {
    const { index } = entry;
    index.wal.rotate(index.seq + 1);
    const tmp = join(entry.dir, "snapshot.hnsw");
    const envelope = index.applier.capture((graph) => graph.save(tmp));
    try {
      entry.manifest = await commitSnapshot(this.store, entry.manifest, tmp, envelope);
      index.wal.dropCovered(envelope.seq);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private info(entry: Entry): IndexInfo {
    const { manifest, index } = entry;
    return { ...manifest.params, ...index.stats(), bytes: (manifest.snapshot?.bytes ?? 0) + index.wal.totalBytes, snapshot_seq: manifest.snapshot?.seq ?? 0, created_at: manifest.created_at };
  }

  private entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry && this.failed.has(name)) {
      throw new Unavailable(`vector index "${name}" failed to load at start-up (the server log says why); repair its files or drop it`, { index: name });
    }
    if (!entry) throw new NotFound(`no vector index "${name}"`);
    return entry;
  }

  private checkBatch(n: number): void {
    if (n > this.config.max_batch_items) throw new TooLarge(`a batch holds at most ${this.config.max_batch_items} items`, { max_batch_items: this.config.max_batch_items });
  }

  private paramsFor(input: CreateIndexInput): IndexParams {
    const c = this.config;
    const params: IndexParams = {
      name: input.name,
      dim: input.dim,
      metric: input.metric ?? "cosine",
      m: input.m ?? c.default_m,
      ef_construction: input.ef_construction ?? c.default_ef_construction,
      ef_search: input.ef_search ?? c.default_ef_search,
    };
    const bad = (path: string, message: string) => new BadRequest(`${path}: ${message}`, [{ path, message }]);
    if (!INDEX_NAME.test(params.name)) throw bad("name", "1-128 letters, digits, '_' or '-', starting with a letter or digit");
    if (!Number.isInteger(params.dim) || params.dim < 1 || params.dim > MAX_DIM) throw bad("dim", `an integer from 1 to ${MAX_DIM}`);
    if (!["cosine", "l2", "ip"].includes(params.metric)) throw bad("metric", "one of cosine, l2, ip");
    if (!Number.isInteger(params.m) || params.m < 2 || params.m > 128) throw bad("m", "an integer from 2 to 128");
    if (!Number.isInteger(params.ef_construction) || params.ef_construction < 1 || params.ef_construction > 4096) throw bad("ef_construction", "an integer from 1 to 4096");
    if (!Number.isInteger(params.ef_search) || params.ef_search < 1 || params.ef_search > 4096) throw bad("ef_search", "an integer from 1 to 4096");
    return params;
  }
}

const graphParams = (p: IndexParams): GraphParams => ({ dim: p.dim, metric: p.metric, m: p.m, efConstruction: p.ef_construction });
