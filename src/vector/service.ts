// The vector indexes of this process, and the typed interface other modules (matrix) call
// in-process: create, list, get, drop, upsert, search, get/delete items. It keeps the set of
// indexes (and the ones that failed to load) and publishes their comings and goings; each index
// owns its own log, snapshots and lifecycle.
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Conflict, NotFound, TooLarge, Unavailable } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Metadata } from "../filter/compile.ts";
import { type SkippedDetail, SkipReport } from "../lib/skipped.ts";
import type { Logger } from "../log.ts";
import type { ObjectStore } from "../storage/store.ts";
import { type IndexTuning, tuningOf, type VectorConfig } from "./config.ts";
import { IndexFiles } from "./index-files.ts";
import type { UpsertItem } from "./items.ts";
import { type IndexInfo, type ItemView, LiveIndex } from "./live-index.ts";
import { type CreateIndexInput, resolveParams } from "./params.ts";
import type { SearchRequest, SearchResult } from "./search.ts";
import { deleteIndexObjects, emptyState, listIndexNames } from "./snapshot.ts";

export type { IndexInfo, ItemView } from "./live-index.ts";
export type { CreateIndexInput } from "./params.ts";

export interface VectorService {
  createIndex(input: CreateIndexInput): Promise<IndexInfo>;
  listIndexes(): IndexInfo[];
  getIndex(name: string): IndexInfo;
  dropIndex(name: string): Promise<void>;
  /** Durable when it returns: the batch is in the fsynced log. */
  upsert(name: string, items: readonly UpsertItem[]): { upserted: number; seq: number };
  /** Hits closest first, and how many pending (not yet indexed) items were scanned exactly. */
  search(name: string, req: SearchRequest): Promise<SearchResult>;
  getItem(name: string, id: string): ItemView;
  /** An item's metadata (null when it has none) without copying its vector; undefined for an unknown id. */
  getMetadata(name: string, id: string): Metadata | undefined;
  /** A test of whether an item passes `filter` (parsed here: a bad one throws ValidationFailed); false for unknown ids. */
  filterAccept(name: string, filter: unknown): (id: string) => boolean;
  /** The ids passing `filter` when the equality postings answer it exactly, with the index's write sequence; null otherwise. */
  filterIds(name: string, filter: unknown): { ids: string[]; seq: number } | null;
  deleteItems(name: string, ids: readonly string[]): { deleted: number; seq: number };
  /** Deletes one item; NotFound when the index has no such item. */
  deleteItem(name: string, id: string): { seq: number };
  /**
   * Indexes that failed to load at start-up (corrupt log or snapshot): unavailable until dropped;
   * and indexes whose graph worker kept dying: their searches are unavailable until a restart.
   */
  unavailable(): string[];
  /** Objects under _vectors/ passed over at start-up because no index can have their name. */
  skipped(): SkippedDetail;
  /** Resolves once the graph holds every acknowledged write of the index (tests and benchmarks). */
  waitIndexed(name: string): Promise<void>;
}

/** Start-up figures: indexes loaded (and failed) of the total, and the items they hold. */
export type LoadProgress = {
  indexes_total: number;
  indexes_loaded: number;
  indexes_failed: number;
  items_loaded: number;
};

/**
 * Indexes loading at once. Each holds its envelope and a read buffer in memory while it loads, and
 * the graph reads share the thread pool (UV_THREADPOOL_SIZE, 8 under `bun run start`) with DuckDB
 * and file I/O; on the 2-core machines here 4 keeps both cores busy without queueing the rest.
 */
const LOAD_CONCURRENCY = 4;

export interface VectorIndexOptions {
  /** Test-only: graph workers obey injected faults (test/vector/worker.test.ts); never set from config or the API. */
  testFaults?: boolean;
}

export class VectorIndexes implements VectorService {
  private readonly indexes = new Map<string, LiveIndex>();
  /** Names being created or dropped: a second create or drop of them is a conflict. */
  private readonly busy = new Set<string>();
  /** Indexes that failed to load, with the reason (for the log; callers get a generic message). */
  private readonly failed = new Map<string, string>();
  private readonly skippedObjects = new SkipReport();
  private readonly tuning: IndexTuning;

  private constructor(
    private readonly store: ObjectStore,
    private readonly config: VectorConfig,
    private readonly walRoot: string,
    private readonly log: Logger,
    private readonly events?: EventBus,
    private readonly options: VectorIndexOptions = {},
  ) {
    this.tuning = tuningOf(config);
  }

  /**
   * Loads every index: its snapshot from the store, then the log after it. Up to LOAD_CONCURRENCY
   * at once (hnswlib reads a graph on the thread pool, and a replay yields to the event loop), and
   * `progress` hears loaded/total as they finish, for /health while the process starts.
   */
  static async open(
    store: ObjectStore,
    config: VectorConfig,
    walRoot: string,
    log: Logger,
    events?: EventBus,
    progress?: (figures: LoadProgress) => void,
    options: VectorIndexOptions = {},
  ): Promise<VectorIndexes> {
    const svc = new VectorIndexes(store, config, walRoot, log, events, options);
    mkdirSync(walRoot, { recursive: true });
    const { names, skipped } = await listIndexNames(store);
    for (const { key, reason } of skipped) {
      svc.skippedObjects.add(key, reason);
      log.warn("skipping a vector manifest in a folder no index can be named", { key });
    }
    const figures: LoadProgress = { indexes_total: names.length, indexes_loaded: 0, indexes_failed: 0, items_loaded: 0 };
    progress?.({ ...figures });
    const queue = [...names];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const started = performance.now();
        try {
          const index = await svc.load(name);
          svc.indexes.set(name, index);
          figures.indexes_loaded++;
          figures.items_loaded += index.count;
          log.info("vector index loaded", { index: name, count: index.count, pending: index.stats().pending, ms: Math.round(performance.now() - started) });
        } catch (err) {
          // One damaged index must not take the process (and every other index) down with it, nor
          // be silently emptied: it stays on disk, unavailable, until an operator repairs or drops it.
          const reason = err instanceof Error ? err.message : String(err);
          svc.failed.set(name, reason);
          figures.indexes_failed++;
          log.error("vector index failed to load; it is unavailable until repaired or dropped", { index: name, error: reason });
          await events?.publish("vector.index_unavailable", { name, reason });
        }
        progress?.({ ...figures });
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, names.length) }, worker));
    return svc;
  }

  async createIndex(input: CreateIndexInput): Promise<IndexInfo> {
    const params = resolveParams(input, this.config);
    if (this.indexes.has(params.name) || this.busy.has(params.name) || this.failed.has(params.name))
      throw new Conflict(`index "${params.name}" already exists`);
    this.busy.add(params.name);
    let index: LiveIndex;
    try {
      const files = await IndexFiles.create(this.store, this.walRoot, params);
      index = new LiveIndex({ files, restored: emptyState(params), tuning: this.tuning, log: this.log, testFaults: this.options.testFaults });
      this.indexes.set(params.name, index);
    } finally {
      this.busy.delete(params.name);
    }
    await this.events?.publish("vector.index_created", { name: params.name, dim: params.dim, metric: params.metric });
    return index.info();
  }

  listIndexes(): IndexInfo[] {
    return [...this.indexes.values()].sort((a, b) => (a.params.name < b.params.name ? -1 : 1)).map((index) => index.info());
  }

  getIndex(name: string): IndexInfo {
    return this.index(name).info();
  }

  unavailable(): string[] {
    const broken = [...this.indexes].filter(([, index]) => index.graphFailure !== null).map(([name]) => name);
    return [...this.failed.keys(), ...broken].sort();
  }

  skipped(): SkippedDetail {
    return this.skippedObjects.detail();
  }

  async dropIndex(name: string): Promise<void> {
    if (this.failed.has(name) && !this.busy.has(name)) {
      // A damaged index has no live object to drop itself: remove what it left in the store and on disk.
      this.busy.add(name);
      try {
        await deleteIndexObjects(this.store, name);
        await rm(join(this.walRoot, name), { recursive: true, force: true });
        this.failed.delete(name);
      } finally {
        this.busy.delete(name);
      }
    } else {
      const index = this.index(name);
      this.indexes.delete(name);
      this.busy.add(name);
      try {
        await index.drop();
      } finally {
        this.busy.delete(name);
      }
    }
    await this.events?.publish("vector.index_dropped", { name });
  }

  upsert(name: string, items: readonly UpsertItem[]): { upserted: number; seq: number } {
    this.checkBatch(items.length);
    return this.index(name).upsert(items);
  }

  async search(name: string, req: SearchRequest): Promise<SearchResult> {
    return this.index(name).search(req);
  }

  getItem(name: string, id: string): ItemView {
    return this.index(name).getItem(id);
  }

  getMetadata(name: string, id: string): Metadata | undefined {
    return this.index(name).getMetadata(id);
  }

  filterAccept(name: string, filter: unknown): (id: string) => boolean {
    return this.index(name).acceptor(filter);
  }

  filterIds(name: string, filter: unknown): { ids: string[]; seq: number } | null {
    return this.index(name).exactIds(filter);
  }

  deleteItems(name: string, ids: readonly string[]): { deleted: number; seq: number } {
    this.checkBatch(ids.length);
    return this.index(name).delete(ids);
  }

  deleteItem(name: string, id: string): { seq: number } {
    const index = this.index(name);
    if (index.getMetadata(id) === undefined) throw new NotFound(`no item "${id}" in index "${name}"`);
    return { seq: index.delete([id]).seq };
  }

  waitIndexed(name: string): Promise<void> {
    return this.index(name).idle();
  }

  /** Test-only: see VectorIndexOptions.testFaults; a worker started without it ignores this. */
  injectGraphFault(name: string, kind: "throw" | "exit"): void {
    this.index(name).injectGraphFault(kind);
  }

  /** Stops indexing; an index whose graph caught up gets a final snapshot so the next start is quick. */
  async close(): Promise<void> {
    // Logged per index: a final snapshot of a 100K × 384 index takes seconds, and a stop that
    // prints nothing meanwhile looks hung (issue 11: ≈8 s of silence).
    for (const [name, index] of this.indexes) {
      const t0 = performance.now();
      const { snapshot, pending } = await index.close();
      this.log.info("vector index closed", { index: name, count: index.count, pending, snapshot, ms: Math.round(performance.now() - t0) });
    }
    this.indexes.clear();
  }

  private async load(name: string): Promise<LiveIndex> {
    const { files, restored } = await IndexFiles.open(this.store, this.walRoot, name);
    const index = new LiveIndex({ files, restored, tuning: this.tuning, log: this.log, testFaults: this.options.testFaults });
    const report = await index.replay();
    if (report.droppedBytes > 0) this.log.warn("vector log had a torn tail; dropped it", { index: name, bytes: report.droppedBytes });
    return index;
  }

  private index(name: string): LiveIndex {
    const index = this.indexes.get(name);
    if (!index && this.failed.has(name)) {
      throw new Unavailable(`vector index "${name}" failed to load at start-up (the server log says why); repair its files or drop it`, { index: name });
    }
    if (!index) throw new NotFound(`no vector index "${name}"`);
    return index;
  }

  private checkBatch(n: number): void {
    if (n > this.config.max_batch_items)
      throw new TooLarge(`a batch holds at most ${this.config.max_batch_items} items`, { max_batch_items: this.config.max_batch_items });
  }
}
