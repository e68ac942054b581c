// Builds one log record: the new versions, replay counts, forgets and the audit receipt of each
// change, chained to the trail as it stands. Built and committed in one synchronous step, so the
// receipts' seq and prev are those of the trail the record is applied to.
import { type AuditOp, type LogRecord, type Receipt, receiptHash, type StoredVersion, versionHash } from "./model.ts";
import type { PathwayState } from "./state.ts";

export class RecordBuilder {
  readonly rec: LogRecord;
  private nextReceipt: number;
  private prev: string;
  private ord: number;

  constructor(
    state: PathwayState,
    private readonly actor: string,
    readonly now: string,
  ) {
    this.rec = { seq: state.seq + 1, receipts: [] };
    this.nextReceipt = state.nextReceiptSeq;
    this.prev = state.lastReceiptHash;
    this.ord = state.nextOrd;
  }

  /** The creation order of the next new trace in this record. */
  nextOrd(): number {
    return this.ord++;
  }

  put(op: AuditOp, v: StoredVersion, before: StoredVersion | null): void {
    this.rec.puts ??= [];
    this.rec.puts.push(v);
    this.receipt(op, v.uid, v.version, before && versionHash(before), versionHash(v));
  }

  replay(head: StoredVersion, count: number): void {
    this.rec.replays ??= [];
    this.rec.replays.push([head.uid, count]);
    const h = versionHash(head);
    this.receipt("replay", head.uid, head.version, h, h);
  }

  forget(head: StoredVersion, vectorIds: string[]): void {
    this.rec.forgets ??= [];
    this.rec.forgets.push({ uid: head.uid, vector_ids: vectorIds });
    this.receipt("forget", head.uid, head.version, versionHash(head), null);
  }

  private receipt(op: AuditOp, uid: string, version: number, before: string | null, after: string | null): void {
    const body: Omit<Receipt, "hash"> = {
      seq: this.nextReceipt++,
      op,
      uid,
      version,
      actor: this.actor,
      at: this.now,
      before_hash: before,
      after_hash: after,
      prev: this.prev,
    };
    const hash = receiptHash(body);
    this.rec.receipts.push({ ...body, hash });
    this.prev = hash;
  }
}
