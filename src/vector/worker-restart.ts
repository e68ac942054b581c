// Pieces of replacing a graph worker that died (applier.ts): how often that may happen, and the
// log records after the snapshot turned back into the ops the new worker is sent.
import type { Metadata } from "../filter/compile.ts";
import type { Op } from "./applier.ts";
import type { SnapshotItem } from "./snapshot.ts";
import type { WalRecord } from "./wal-record.ts";

/** A worker dying this often in this window is not a fluke: the index stops (unavailable) instead of looping. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export class RestartBudget {
  private readonly times: number[] = [];

  /** Counts one restart; throws when there have been more than MAX_RESTARTS in the window. */
  spend(): void {
    const now = performance.now();
    this.times.push(now);
    while (this.times[0]! < now - RESTART_WINDOW_MS) this.times.shift();
    if (this.times.length > MAX_RESTARTS) throw new Error(`the graph worker died ${this.times.length} times within a minute`);
  }
}

/**
 * Log records → ops, starting from a snapshot's items. An upsert that kept an item's metadata
 * (none in the record) gives it the metadata it had at that point of the log, which is what the
 * graph side holds once the op is applied (and what the next snapshot's envelope records).
 */
export class LogOps {
  private readonly metaAt: Map<number, Metadata>;

  constructor(items: readonly SnapshotItem[]) {
    this.metaAt = new Map(items.map((i) => [i.label, i.metadata]));
  }

  /** The op of `rec`; `upserted` hears each upserted item. */
  next(rec: WalRecord, upserted: (label: number, id: string, seq: number) => void): Op {
    if (rec.kind === "delete") {
      for (const label of rec.labels) this.metaAt.delete(label);
      return { seq: rec.seq, kind: "delete", labels: rec.labels };
    }
    const items = rec.items.map((item) => {
      const metadata = "metadata" in item ? (item.metadata ?? null) : (this.metaAt.get(item.label) ?? null);
      this.metaAt.set(item.label, metadata);
      upserted(item.label, item.id, rec.seq);
      return { label: item.label, id: item.id, metadata };
    });
    return { seq: rec.seq, kind: "upsert", items, vectors: rec.vectors };
  }
}
