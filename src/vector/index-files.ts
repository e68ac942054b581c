// The durable side of one index: its log on local disk and its snapshots in the object store,
// with the manifest that names the current snapshot. The order it keeps is what makes snapshots
// safe: a new log segment starts before the graph-side state is captured, and the old segments go
// only once the manifest points at a snapshot that covers them.
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { ObjectStore } from "../storage/store.ts";
import type { IndexParams } from "./params.ts";
import {
  commitSnapshot,
  deleteIndexObjects,
  emptyState,
  type Envelope,
  type Manifest,
  manifestKey,
  readManifest,
  type RestoredState,
  reloadSnapshot,
  restoreSnapshot,
} from "./snapshot.ts";
import { type ReplayReport, Wal } from "./wal.ts";
import type { WalRecord } from "./wal-record.ts";

export class IndexFiles {
  private constructor(
    private readonly store: ObjectStore,
    private current: Manifest,
    private readonly wal: Wal,
  ) {}

  /** A new index: an empty log (removing any leftover of the same name) and its manifest, created put-if-absent. */
  static async create(store: ObjectStore, walRoot: string, params: IndexParams): Promise<IndexFiles> {
    const manifest: Manifest = { version: 1, params, created_at: new Date().toISOString(), snapshot: null };
    const wal = Wal.create(join(walRoot, params.name), params.dim);
    await store.putIfAbsent(manifestKey(params.name), JSON.stringify(manifest));
    return new IndexFiles(store, manifest, wal);
  }

  /** An existing index: its manifest and snapshot, both checked (damage throws); its log is replayed by the index. */
  static async open(store: ObjectStore, walRoot: string, name: string): Promise<{ files: IndexFiles; restored: RestoredState }> {
    const manifest = await readManifest(store, name);
    const dir = join(walRoot, name);
    mkdirSync(dir, { recursive: true });
    const restored = manifest.snapshot ? await restoreSnapshot(store, manifest, dir) : emptyState(manifest.params);
    return { files: new IndexFiles(store, manifest, new Wal(dir, manifest.params.dim)), restored };
  }

  get manifest(): Manifest {
    return this.current;
  }

  /** Bytes kept for the index: the current snapshot in the object store plus the local log. */
  get bytes(): number {
    return (this.current.snapshot?.bytes ?? 0) + this.wal.totalBytes;
  }

  walBytes(): { sinceSnapshot: number; total: number } {
    return { sinceSnapshot: this.wal.bytesSinceSnapshot, total: this.wal.totalBytes };
  }

  /** Reads the log's records after `afterSeq` in order (cutting a torn tail); a damaged log throws. */
  replay(afterSeq: number, onRecord: (rec: WalRecord) => void): Promise<ReplayReport> {
    return this.wal.openAsync(afterSeq, onRecord);
  }

  /** Reads the log's records in (afterSeq, upToSeq] without changing the log (a graph worker's rebuild). */
  readLog(afterSeq: number, upToSeq: number, onRecord: (rec: WalRecord) => void): Promise<void> {
    return this.wal.read(afterSeq, upToSeq, onRecord);
  }

  /** The current snapshot's graph file and items, for a graph worker's rebuild. */
  reloadSnapshot(): ReturnType<typeof reloadSnapshot> {
    return reloadSnapshot(this.store, this.current, this.wal.dir);
  }

  /** Makes one record durable before returning. */
  append(rec: WalRecord): void {
    this.wal.append(rec);
  }

  /**
   * Starts a log segment at `nextSeq`, has `capture` save the graph to a local file and return the
   * envelope of the state that file holds (the graph worker saves; the applier captures the
   * envelope in the same turn as the worker's answer), then uploads both.
   */
  async snapshot(nextSeq: number, capture: (graphFile: string) => Promise<Envelope>): Promise<void> {
    this.wal.rotate(nextSeq);
    const tmp = join(this.wal.dir, "snapshot.hnsw");
    try {
      const envelope = await capture(tmp);
      this.current = await commitSnapshot(this.store, this.current, tmp, envelope);
      this.wal.dropCovered(envelope.seq);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  close(): void {
    this.wal.close();
  }

  /** Deletes the log and every object of the index, the manifest first. */
  async drop(): Promise<void> {
    this.wal.destroy();
    await deleteIndexObjects(this.store, this.current.params.name);
  }
}
