// The main thread's picture of what the graph worker's graph holds: which id and metadata per
// label (what a snapshot's envelope records), the ops posted to the worker and not yet reported
// whole, and the last op applied whole. The worker's "applied" reports move it forward; it is
// only ever read and changed on the main thread, in the order the worker's messages arrive.
import type { Metadata } from "../filter/compile.ts";
import type { Envelope, SnapshotItem } from "./snapshot.ts";

/** An op as posted to the worker (its vectors went with the message). */
export type SentOp = { seq: number; kind: "upsert"; items: SnapshotItem[] } | { seq: number; kind: "delete"; labels: number[] };

export class GraphView {
  /** The last op the graph holds whole. */
  appliedSeq = 0;
  private readonly ids = new Map<number, string>();
  private readonly metadata = new Map<number, Metadata>();
  /** Ops posted and not yet reported whole, in order; `cursor` items of the first are in. */
  private inflight: SentOp[] = [];
  private cursor = 0;

  /** Starts over from a snapshot's items (a new worker loading that snapshot). */
  reset(items: readonly SnapshotItem[], seq: number): void {
    this.ids.clear();
    this.metadata.clear();
    for (const { label, id, metadata } of items) {
      this.ids.set(label, id);
      this.metadata.set(label, metadata);
    }
    this.inflight = [];
    this.cursor = 0;
    this.appliedSeq = seq;
  }

  sent(op: SentOp): void {
    this.inflight.push(op);
  }

  /** Ops posted and not reported whole. */
  get behind(): number {
    return this.inflight.length;
  }

  /** Between two ops (no op part-applied): where a snapshot's envelope is exact. */
  get atOpBoundary(): boolean {
    return this.cursor === 0;
  }

  /**
   * Takes a report's triples (seq, label, ok). `applied(label, seq)` hears each upsert item that
   * reached the graph; false when the report does not follow the posted ops (never expected).
   */
  take(done: readonly number[], applied: (label: number, seq: number) => void): boolean {
    for (let i = 0; i < done.length; i += 3) {
      const seq = done[i]!;
      const op = this.inflight[0];
      if (!op || op.seq !== seq) return false;
      if (op.kind === "upsert") {
        const item = op.items[this.cursor++]!;
        if (done[i + 2] === 1) {
          this.ids.set(item.label, item.id);
          this.metadata.set(item.label, item.metadata);
          applied(item.label, seq);
        }
        if (this.cursor < op.items.length) continue;
      } else {
        for (const label of op.labels) {
          this.ids.delete(label);
          this.metadata.delete(label);
        }
      }
      this.inflight.shift();
      this.cursor = 0;
      this.appliedSeq = seq;
    }
    return true;
  }

  /** The envelope of what the graph holds now, under `seq` (the last op it holds whole). */
  envelope(seq: number): Envelope {
    const labels = [...this.ids.keys()];
    return { seq, labels, ids: labels.map((l) => this.ids.get(l)!), metadata: labels.map((l) => this.metadata.get(l) ?? null) };
  }
}
