// One named vector index: the acknowledged ("committed") view that answers reads at once, the
// HNSW graph that a background applier brings up to date, and the log that makes every
// acknowledged write durable.
//
// A write is validated whole, appended to the log and fsynced, then committed in memory in the
// same synchronous step (so concurrent requests are serialized and nothing half-applies); the
// graph insert, which is slow, happens later in the index's graph worker thread (applier.ts,
// graph-worker.ts). Until then the item is "pending": searches score pending items exactly (an
// int8 shortlist re-scored from the float32 slab) and skip their stale graph entries, so a search
// always reads its own writes. Only the worker touches the graph, one op at a time, which is what
// hnswlib needs (it is not safe under concurrent mutation).
//
// The index owns its lifecycle too: replaying its log at start, snapshotting, closing and
// dropping. Its applier and its files (log and snapshots) are its own; nothing reaches into them.
import { acceptorFor, exactIdsFor, type IdView } from "./filter-ids.ts";
import { NotFound, Unavailable, ValidationFailed } from "../errors.ts";
import type { Metadata } from "../filter/compile.ts";
import type { Logger } from "../log.ts";
import { EXACT_FILTER_FLOATS, type IndexTuning } from "./config.ts";
import { FieldPostings } from "./field-postings.ts";
import type { IndexFiles } from "./index-files.ts";
import { type CheckedItem, checkUpsertBatch, type UpsertItem } from "./items.ts";
import type { IndexParams } from "./params.ts";
import { PendingCodes } from "./codes.ts";
import { type SearchRequest, type SearchResult, searchIndex } from "./search.ts";
import type { VectorSlab } from "./slab.ts";
import type { RestoredState } from "./snapshot.ts";
import type { ReplayReport } from "./wal.ts";
import type { UpsertItemRecord, WalRecord } from "./wal-record.ts";
import type { Metric } from "./vectors.ts";
import { Applier, type Op } from "./applier.ts";

/** Restored vectors coded per turn of the event loop after a start: ≈6 ms of work at 384 dimensions. */
const CODE_CHUNK = 2048;

export interface IndexStats {
  count: number;
  pending: number;
  deleted: number;
  capacity: number;
  seq: number;
  indexed_seq: number;
}

export interface ItemView {
  id: string;
  vector: number[];
  metadata: Metadata;
}

export interface IndexInfo extends IndexParams, IndexStats {
  /** Bytes kept for the index: the current snapshot in the object store plus its local log. */
  bytes: number;
  /** The log sequence the current snapshot holds; a restart replays the log after it. */
  snapshot_seq: number;
  created_at: string;
}

export interface LiveIndexParts {
  files: IndexFiles;
  /** The snapshot's state; `replay` then brings it up to the log. */
  restored: RestoredState;
  tuning: IndexTuning;
  log: Logger;
  /** Test-only: the graph worker obeys injected faults (never set from config or the API). */
  testFaults?: boolean;
}

export class LiveIndex {
  readonly dim: number;
  readonly metric: Metric;
  private readonly idToLabel = new Map<string, number>();
  private readonly labelId: (string | undefined)[] = [];
  private readonly meta: Metadata[] = [];
  private readonly slab: VectorSlab;
  /** The int8 copy of vectors the pending scan reads (written as each upsert commits). */
  private readonly codes: PendingCodes;
  /** Whether every acknowledged vector has its int8 code (the restored ones are coded after a start). */
  private codesComplete = false;
  private stopped = false;
  private readonly free = new Set<number>();
  private nextLabel = 0;
  private lastSeq: number;
  /** Labels whose acknowledged vector is not in the graph yet, with the seq of their latest upsert. */
  private readonly pending = new Map<number, number>();
  private readonly exactFilterMax: number;
  private readonly postings = new FieldPostings(() => this.liveMetadata());
  private readonly applier: Applier;
  private readonly files: IndexFiles;

  constructor({ files, restored, tuning, log, testFaults = false }: LiveIndexParts) {
    const { params } = files.manifest;
    this.files = files;
    this.dim = params.dim;
    this.metric = params.metric;
    this.lastSeq = restored.seq;
    this.exactFilterMax = tuning.exactFilterMax ?? Math.round(EXACT_FILTER_FLOATS / params.dim);
    // The snapshot's vectors, already by label (read from the graph file: docs/vector.md, start-up).
    this.slab = restored.vectors;
    this.codes = new PendingCodes(params.dim);
    for (const { label, id, metadata } of restored.items) {
      this.idToLabel.set(id, label);
      this.labelId[label] = id;
      this.meta[label] = metadata;
      this.nextLabel = Math.max(this.nextLabel, label + 1);
    }
    for (let l = 0; l < this.nextLabel; l++) if (this.labelId[l] === undefined) this.free.add(l);
    this.codeRestored(restored.items.map((item) => item.label));
    this.applier = new Applier(
      restored,
      tuning,
      {
        applied: (label, seq) => {
          if (this.pending.get(label) === seq) this.pending.delete(label);
        },
        walBytes: () => files.walBytes(),
        snapshot: () => files.snapshot(this.lastSeq + 1, (graphFile) => this.applier.capture(graphFile)),
        lastSeq: () => this.lastSeq,
        reloadSnapshot: () => files.reloadSnapshot(),
        readLog: (after, upTo, onRecord) => files.readLog(after, upTo, onRecord),
        repend: (label, id, seq) => {
          if (this.labelId[label] === id && (this.pending.get(label) ?? 0) < seq) this.pending.set(label, seq);
        },
        log,
      },
      params,
      testFaults,
    );
  }

  get params(): IndexParams {
    return this.files.manifest.params;
  }

  get seq(): number {
    return this.lastSeq;
  }

  get count(): number {
    return this.idToLabel.size;
  }

  /** Validates the whole batch, makes it durable, then commits it; throws with nothing committed on any problem. */
  upsert(items: readonly UpsertItem[]): { upserted: number; seq: number } {
    const { items: checked, vectors } = checkUpsertBatch(items, this.dim, this.metric);
    if (checked.length === 0) return { upserted: 0, seq: this.lastSeq };
    const seq = this.nextSeq();
    const allocated: number[] = [];
    const recItems: UpsertItemRecord[] = checked.map((item: CheckedItem) => {
      let label = this.idToLabel.get(item.id);
      if (label === undefined) {
        label = this.allocate();
        allocated.push(label);
      }
      return "metadata" in item ? { id: item.id, label, metadata: item.metadata ?? null } : { id: item.id, label };
    });
    const rec: WalRecord = { seq, kind: "upsert", items: recItems, vectors };
    try {
      // Room for the new labels first: once the record is in the log, applying it must not fail.
      const rows = allocated.reduce((max, l) => Math.max(max, l + 1), 0);
      this.slab.reserve(rows);
      this.codes.reserve(rows);
      this.files.append(rec);
    } catch (err) {
      for (const l of allocated) this.free.add(l);
      throw err;
    }
    this.apply(rec);
    return { upserted: checked.length, seq: rec.seq };
  }

  /** Deletes the ids that exist; returns how many did. */
  delete(ids: readonly string[]): { deleted: number; seq: number } {
    const present = [...new Set(ids)].filter((id) => this.idToLabel.has(id));
    if (present.length === 0) return { deleted: 0, seq: this.lastSeq };
    const rec: WalRecord = { seq: this.nextSeq(), kind: "delete", ids: present, labels: present.map((id) => this.idToLabel.get(id)!) };
    this.files.append(rec);
    this.apply(rec);
    return { deleted: present.length, seq: rec.seq };
  }

  /**
   * The next write's sequence. Past 2^53 - 1 it would stop being exact (seq + 1 === seq) and
   * records would collide; no index gets there by writing, only from a stored snapshot that says
   * so, and then writes are refused rather than logged under a number already used.
   */
  private nextSeq(): number {
    if (this.lastSeq >= Number.MAX_SAFE_INTEGER) {
      throw new Unavailable(`vector index "${this.params.name}" has used its last sequence number; rebuild it under a new name`, { index: this.params.name });
    }
    return this.lastSeq + 1;
  }

  /** Commits a durable record: used for new writes and for replay on start. */
  apply(rec: WalRecord): void {
    if (rec.seq <= this.lastSeq) return;
    let op: Op;
    if (rec.kind === "upsert") {
      const items = rec.items.map((item, i) => {
        const { id, label } = item;
        const previous = this.labelId[label];
        if (previous !== undefined && previous !== id) throw new Error(`log record ${rec.seq} reuses a live label`);
        this.free.delete(label);
        this.nextLabel = Math.max(this.nextLabel, label + 1);
        for (let l = this.labelId.length; l < label; l++) if (this.labelId[l] === undefined) this.free.add(l);
        const metadata = "metadata" in item ? (item.metadata ?? null) : (this.meta[label] ?? null);
        this.idToLabel.set(id, label);
        this.labelId[label] = id;
        this.postings.replace(label, this.meta[label], metadata);
        this.meta[label] = metadata;
        const vector = rec.vectors.subarray(i * this.dim, (i + 1) * this.dim);
        this.slab.set(label, vector);
        this.codes.set(label, vector);
        this.pending.set(label, rec.seq);
        return { label, id, metadata };
      });
      op = { seq: rec.seq, kind: "upsert", items, vectors: rec.vectors };
    } else {
      for (const label of rec.labels) {
        const id = this.labelId[label];
        if (id !== undefined) this.idToLabel.delete(id);
        this.labelId[label] = undefined;
        this.postings.replace(label, this.meta[label], undefined);
        this.meta[label] = undefined;
        this.pending.delete(label);
        this.free.add(label);
      }
      op = { seq: rec.seq, kind: "delete", labels: rec.labels };
    }
    this.lastSeq = rec.seq;
    this.applier.enqueue(op);
  }

  getItem(id: string): ItemView {
    const label = this.idToLabel.get(id);
    if (label === undefined) throw new NotFound(`no item "${id}" in index "${this.params.name}"`);
    return { id, vector: Array.from(this.slab.get(label)), metadata: this.meta[label] ?? null };
  }

  /** The item's metadata without copying its vector; undefined for an unknown id. */
  getMetadata(id: string): Metadata | undefined {
    const label = this.idToLabel.get(id);
    return label === undefined ? undefined : (this.meta[label] ?? null);
  }

  /**
   * Whether the item of an id passes `filter` (undefined: every item does), for testing many ids
   * at once (the lexical side of a matrix search, thousands of ids per query); unknown ids do not
   * pass. It answers for the index as it is when made: use it synchronously. The filter's
   * postings become a bitmap of labels (12.5 KB at 100K), so {"state": "IL"} costs an id lookup
   * and a bit test per id; what the postings cannot answer reads the item's metadata.
   */
  acceptor(filter: unknown): (id: string) => boolean {
    return acceptorFor(this.idView(), filter);
  }

  /** The ids passing `filter` when the postings answer it exactly (no metadata read), with the write sequence they hold for. */
  exactIds(filter: unknown): { ids: string[]; seq: number } | null {
    const ids = exactIdsFor(this.idView(), filter);
    return ids && { ids, seq: this.lastSeq };
  }

  private idView(): IdView {
    return {
      idToLabel: this.idToLabel,
      labelId: this.labelId,
      labelLimit: this.nextLabel,
      postings: this.postings,
      metaOf: (label) => this.meta[label] ?? null,
    };
  }

  search(req: SearchRequest): Promise<SearchResult> {
    if (!Number.isInteger(req.k) || req.k < 1) throw new ValidationFailed("k must be a positive integer", [{ path: "k", message: "expected an integer ≥ 1" }]);
    return searchIndex(req, {
      dim: this.dim,
      metric: this.metric,
      efSearch: this.params.ef_search,
      exactFilterMax: this.exactFilterMax,
      live: this.idToLabel,
      labelLimit: this.nextLabel,
      idOf: (label) => this.labelId[label]!,
      metaOf: (label) => this.meta[label] ?? null,
      vectorOf: (label) => this.slab.get(label),
      score: (query, labels, visit) => this.slab.score(this.metric, query, labels, visit),
      shortlist: (query, labels, keep) => this.codes.shortlist(this.metric, query, labels, keep),
      codesComplete: this.codesComplete,
      postings: this.postings,
      pending: this.pending,
      graph: this.applier,
    });
  }

  stats(): IndexStats {
    return {
      count: this.idToLabel.size,
      pending: this.pending.size,
      deleted: this.applier.deletedCount,
      capacity: this.applier.capacity,
      seq: this.lastSeq,
      indexed_seq: this.applier.appliedSeq,
    };
  }

  info(): IndexInfo {
    const { manifest } = this.files;
    return { ...manifest.params, ...this.stats(), bytes: this.files.bytes, snapshot_seq: manifest.snapshot?.seq ?? 0, created_at: manifest.created_at };
  }

  /** Commits every log record after the snapshot's sequence; a damaged log stops the index and throws. */
  async replay(): Promise<ReplayReport> {
    try {
      // The worker loads the snapshot's graph meanwhile, on its own thread, and takes the replayed
      // ops as they come; a graph it cannot load fails the index like a damaged log.
      const report = await this.files.replay(this.lastSeq, (rec) => this.apply(rec));
      await this.applier.started();
      return report;
    } catch (err) {
      // Replay may have queued graph work; it must not go on (or snapshot) for an index that failed.
      this.applier.terminate();
      this.files.close();
      throw err;
    }
  }

  /** Set when the graph worker died and could not be rebuilt: searches answer 503 until a restart. */
  get graphFailure(): string | null {
    return this.applier.failure;
  }

  /** Test-only: has the graph worker throw or exit (obeyed only when built with `testFaults`). */
  injectGraphFault(kind: "throw" | "exit"): void {
    this.applier.injectFault(kind);
  }

  /** Resolves once the graph holds every acknowledged write (tests and benchmarks). */
  idle(): Promise<void> {
    return this.applier.idle();
  }

  /**
   * Stops indexing and snapshots what the graph holds, so the next start loads it instead of
   * inserting it again. Also when the graph lags behind the log: the snapshot covers the ops
   * applied so far, the log keeps the rest (replayed as pending, searched exactly), so a restart
   * during catch-up keeps the graph's progress. Before, such a stop wrote nothing and every restart
   * began inserting the whole log again (100K × 384: ≈90 s of background work each time).
   */
  async close(): Promise<{ snapshot: boolean; pending: number }> {
    this.stopped = true;
    await this.applier.stop();
    // Stopped mid-op is fine: the snapshot's seq is the last whole op, items of the next one it
    // already holds are replayed from the log again (an upsert of the same id and label).
    // (A new seq only: a snapshot is written under its seq's keys, never over the current one.)
    const snapshot = this.applier.appliedSeq > this.applier.snapshotSeq;
    if (snapshot) await this.applier.startSnapshot();
    this.applier.terminate();
    this.files.close();
    return { snapshot, pending: this.pending.size };
  }

  /** Stops indexing, then deletes the log and every object of the index (the manifest first). */
  async drop(): Promise<void> {
    this.stopped = true;
    await this.applier.stop();
    this.applier.terminate();
    await this.files.drop();
  }

  /**
   * Codes the snapshot's vectors in the background, CODE_CHUNK at a time between other work (100K
   * × 384 took ≈0.3 s in all, too long to hold a start or a request); writes code their own as
   * they commit. Until it is done, filtered scans read the float32 slab alone.
   */
  private codeRestored(labels: number[]): void {
    const step = (from: number) => {
      if (this.stopped) return;
      if (from >= labels.length) {
        this.codesComplete = true;
        return;
      }
      this.codes.codeFrom(this.slab, labels.slice(from, from + CODE_CHUNK));
      setTimeout(() => step(from + CODE_CHUNK), 0);
    };
    if (labels.length === 0) this.codesComplete = true;
    else setTimeout(() => step(0), 0);
  }

  private *liveMetadata(): Generator<readonly [number, Metadata]> {
    for (const label of this.idToLabel.values()) yield [label, this.meta[label]] as const;
  }

  private allocate(): number {
    const first = this.free.values().next();
    if (!first.done) {
      this.free.delete(first.value);
      return first.value;
    }
    return this.nextLabel++;
  }
}
