// The main thread's half of indexing. The graph itself lives in a worker thread (graph-worker.ts)
// that inserts, deletes, rebuilds, saves and searches; this side posts it every acknowledged op,
// keeps the graph-side view (graph-view.ts: what a snapshot's envelope records), learns from the
// worker's reports which pending items reached the graph, and decides when to snapshot (log past
// the threshold).
//
// A worker that dies (an uncaught error, an exit) is replaced: the new one loads the current
// snapshot's graph and is sent every log record after it again, and the items of those records
// are pending (scanned exactly) until it has them. The log is the truth; nothing acknowledged is
// lost, and searches wait for the rebuild to be under way rather than see a graph that lacks items
// the pending set no longer lists.
import { Unavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { IndexTuning } from "./config.ts";
import { GraphClient, WorkerGone } from "./graph-client.ts";
import type { FromWorker } from "./graph-protocol.ts";
import { GraphView } from "./graph-view.ts";
import { graphParamsOf, type IndexParams } from "./params.ts";
import type { GraphHit } from "./search.ts";
import type { Envelope, GraphFile, RestoredState, SnapshotItem } from "./snapshot.ts";
import type { WalRecord } from "./wal-record.ts";
import { LogOps, RestartBudget } from "./worker-restart.ts";

export type Op = { seq: number; kind: "upsert"; items: SnapshotItem[]; vectors: Float32Array } | { seq: number; kind: "delete"; labels: number[] };

export interface ApplierHost {
  /** Called after the upsert at `seq` reached the graph for `label`. */
  applied(label: number, seq: number): void;
  walBytes(): { sinceSnapshot: number; total: number };
  /** Starts a snapshot; it calls capture() for the graph file and envelope. */
  snapshot(): Promise<void>;
  /** The last acknowledged sequence: what a replacement worker must be brought up to. */
  lastSeq(): number;
  /** The current snapshot's graph file and graph-side items. */
  reloadSnapshot(): Promise<{ graphFile: GraphFile | null; seq: number; items: SnapshotItem[] }>;
  /** The log's records in (afterSeq, upToSeq], in order. */
  readLog(afterSeq: number, upToSeq: number, onRecord: (rec: WalRecord) => void): Promise<void>;
  /** `label` (holding `id`, upserted at `seq`) is not in the replacement graph yet: pending again unless superseded. */
  repend(label: number, id: string, seq: number): void;
  log: Logger;
}

export class Applier {
  private client: GraphClient;
  private readonly view = new GraphView();
  /** The sequence the latest snapshot captured. */
  snapshotSeq: number;
  /** Ops acknowledged while a replacement worker is being brought up; posted after the log's. */
  private held: Op[] | null = null;
  private ready: Promise<void>;
  private restarting = false;
  private again = false;
  private readonly restarts = new RestartBudget();
  private snapshotting: Promise<void> | null = null;
  private stopped = false;
  /** Why the graph could not be rebuilt after its worker died; searches are unavailable meanwhile. */
  failure: string | null = null;
  private graphCapacity = 0;
  private graphDeleted = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    restored: RestoredState,
    private readonly tuning: IndexTuning,
    private readonly host: ApplierHost,
    private readonly params: IndexParams,
    private readonly faults = false,
  ) {
    this.snapshotSeq = restored.seq;
    this.view.reset(restored.items, restored.seq);
    this.client = this.startClient(restored.graphFile?.path ?? null, restored.items, restored.seq);
    const file = restored.graphFile;
    this.ready = this.client.ready.then(
      async () => {
        await file?.release();
      },
      async (err) => {
        await file?.release();
        throw err;
      },
    );
    this.ready.catch(() => {});
  }

  /** The last op the graph holds whole. */
  get appliedSeq(): number {
    return this.view.appliedSeq;
  }

  get deletedCount(): number {
    return this.graphDeleted;
  }

  get capacity(): number {
    return this.graphCapacity;
  }

  /** Resolves once the worker has its graph; rejects when the snapshot's graph could not be loaded. */
  started(): Promise<void> {
    return this.ready;
  }

  enqueue(op: Op): void {
    if (this.held) this.held.push(op);
    else this.send(op);
  }

  /** Graph search in the worker (stale entries excluded there); retried on a replacement worker if this one dies. */
  async search(query: Float32Array, k: number, ef: number, allowed?: Uint8Array): Promise<GraphHit[]> {
    const name = this.params.name;
    for (;;) {
      try {
        await this.ready;
      } catch {
        throw new Unavailable(`vector index "${name}" lost its graph worker and could not rebuild it (the server log says why); restart the server`, {
          index: name,
        });
      }
      try {
        return await this.client.search(query, k, ef, allowed);
      } catch (err) {
        if (!(err instanceof WorkerGone)) throw err;
        if (this.stopped) throw new Unavailable(`vector index "${name}" is closing`, { index: name });
      }
    }
  }

  /**
   * Has the worker save the graph to `graphFile` and returns the envelope of what it holds, read
   * in the turn the worker answers (before any later report): at `appliedSeq`, plus the items of a
   * next op applied so far when it stopped mid-op, which replay applies again with the same ids
   * and labels (LiveIndex.close).
   */
  async capture(graphFile: string): Promise<Envelope> {
    await this.ready;
    return this.client.save(graphFile, (seq) => {
      this.snapshotSeq = seq;
      return this.view.envelope(seq);
    });
  }

  /** Runs a snapshot unless one is already running; resolves when it finishes. */
  startSnapshot(): Promise<void> {
    this.snapshotting ??= this.host
      .snapshot()
      .catch((err) => this.host.log.error("vector snapshot failed", { index: this.params.name, error: String(err) }))
      .finally(() => {
        this.snapshotting = null;
      });
    return this.snapshotting;
  }

  /** Resolves when the snapshot running now (if any) has finished. */
  async snapshotDone(): Promise<void> {
    await this.snapshotting;
  }

  /** Resolves once every acknowledged op is in the graph. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops applying (what is queued stays in the log) and waits for a running snapshot. */
  async stop(): Promise<void> {
    this.stopped = true;
    try {
      await this.ready;
      await this.client.stop();
    } catch {
      // A worker that is gone or never started has nothing more to report.
    }
    await this.snapshotting;
  }

  /** Ends the worker thread (after stop, or to drop the index). */
  terminate(): void {
    this.stopped = true;
    this.client.terminate();
  }

  /** Test-only: has the worker throw or exit, if it was started with test faults enabled. */
  injectFault(kind: "throw" | "exit"): void {
    this.client.fault(kind);
  }

  private isIdle(): boolean {
    return this.view.behind === 0 && this.held === null && !this.restarting;
  }

  private send(op: Op): void {
    if (op.kind === "upsert") {
      this.view.sent({ seq: op.seq, kind: "upsert", items: op.items });
      this.client.upsert(
        op.seq,
        op.items.map((i) => i.label),
        op.vectors,
      );
    } else {
      this.view.sent(op);
      this.client.delete(op.seq, op.labels);
    }
  }

  private startClient(file: string | null, items: readonly SnapshotItem[], seq: number): GraphClient {
    const client: GraphClient = new GraphClient(
      {
        params: graphParamsOf(this.params),
        file,
        labels: items.map((i) => i.label),
        seq,
        rebuildDeletedRatio: this.tuning.rebuildDeletedRatio,
        faults: this.faults,
      },
      {
        applied: (msg) => {
          if (client === this.client) this.onApplied(msg);
        },
        log: (level, message, fields) => this.host.log[level](message, { index: this.params.name, ...fields }),
        gone: (reason) => {
          if (client === this.client) this.onGone(reason);
        },
      },
    );
    client.ready.then(
      ({ capacity }) => {
        this.graphCapacity = capacity;
      },
      () => {},
    );
    return client;
  }

  private onApplied(msg: Extract<FromWorker, { t: "applied" }>): void {
    this.graphCapacity = msg.capacity;
    this.graphDeleted = msg.deleted;
    if (!this.view.take(msg.done, (label, seq) => this.host.applied(label, seq))) {
      this.host.log.error("vector graph worker reported an op out of order", { index: this.params.name });
    }
    if (this.view.atOpBoundary) this.maintain();
    if (this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private maintain(): void {
    // Snapshot when the log grew past the threshold, and again once indexing has caught up if the
    // log still holds that much the last snapshot (taken while the graph lagged) could not cover.
    const log = this.host.walBytes();
    const limit = this.tuning.compactAfterBytes;
    const caughtUp = this.view.behind === 0 && this.appliedSeq > this.snapshotSeq && log.total >= limit;
    if (!this.stopped && (log.sinceSnapshot >= limit || caughtUp)) void this.startSnapshot();
  }

  private onGone(reason: string): void {
    if (this.stopped) return;
    this.host.log.error("vector graph worker died; rebuilding its graph from the snapshot and the log", { index: this.params.name, reason });
    if (this.restarting) {
      this.again = true;
      return;
    }
    this.restarting = true;
    this.held ??= [];
    this.ready = this.restart();
    this.ready.catch((err) => {
      this.failure = String(err);
      this.host.log.error("vector graph worker could not be rebuilt; the index's searches are unavailable", { index: this.params.name, error: String(err) });
      for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  private async restart(): Promise<void> {
    try {
      do {
        this.again = false;
        this.restarts.spend();
        await this.rebuildFromLog();
      } while (this.again && !this.stopped);
    } finally {
      this.restarting = false;
    }
    const held = this.held ?? [];
    this.held = null;
    for (const op of held) this.send(op);
    if (this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** A new worker from the current snapshot, then every log record after it up to the last acknowledged one. */
  private async rebuildFromLog(): Promise<void> {
    // A snapshot being uploaded would replace (and delete) the one about to be loaded: let it finish first.
    await this.snapshotting;
    const upTo = this.host.lastSeq();
    const snap = await this.host.reloadSnapshot();
    this.view.reset(snap.items, snap.seq);
    this.snapshotSeq = snap.seq;
    const client = this.startClient(snap.graphFile?.path ?? null, snap.items, snap.seq);
    this.client = client;
    try {
      await client.ready;
    } catch (err) {
      if (err instanceof WorkerGone) return; // `again` is set: the loop starts over
      throw err;
    } finally {
      await snap.graphFile?.release();
    }
    const ops = new LogOps(snap.items);
    await this.host.readLog(snap.seq, upTo, (rec) => this.send(ops.next(rec, (label, id, seq) => this.host.repend(label, id, seq))));
    this.host.log.info("vector graph worker replaced", { index: this.params.name, snapshot_seq: snap.seq, replayed_to: upTo });
  }
}
