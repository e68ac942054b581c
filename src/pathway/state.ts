// The memory held in RAM: every version of every trace (history and as_of are reads of it), the
// audit trail, and the small indexes that make ADD's replay check and LIST's cursor cheap. It
// changes only through `apply(record)`, the same call for a live write and for a record replayed
// from the log or a snapshot, so what a restart rebuilds is what the process held.
import { GENESIS, isLive, type LogRecord, type Receipt, type StoredVersion, scopeKey } from "./model.ts";

export interface Chain {
  uid: string;
  /** Creation order: list order and cursors. */
  ord: number;
  /** Oldest first; never empty. */
  versions: StoredVersion[];
  replays: number;
  forgotten?: boolean;
}

export const replayKey = (v: Pick<StoredVersion, "kind" | "content_hash"> & Parameters<typeof scopeKey>[0]) =>
  `${scopeKey(v)}\u0000${v.kind}\u0000${v.content_hash}`;

export class PathwayState {
  readonly chains = new Map<string, Chain>();
  /** Uids erased by FORGET: never answered again, never reused. */
  readonly forgotten = new Set<string>();
  /** Chains in creation order (ord ascending); forgotten ones are skipped and swept now and then. */
  private order: Chain[] = [];
  private sweptAt = 0;
  readonly audit: Receipt[] = [];
  /** Live traces by scope + kind + content hash: what an ADD of the same memory replays. */
  private readonly byReplayKey = new Map<string, string>();
  /** The last log record applied. */
  seq = 0;
  nextOrd = 1;

  get lastReceiptHash(): string {
    return this.audit.at(-1)?.hash ?? GENESIS;
  }

  get nextReceiptSeq(): number {
    return (this.audit.at(-1)?.seq ?? 0) + 1;
  }

  get size(): number {
    return this.chains.size;
  }

  apply(rec: LogRecord): void {
    for (const v of rec.puts ?? []) this.put(v);
    for (const [uid, count] of rec.replays ?? []) {
      const chain = this.chains.get(uid);
      if (chain) chain.replays = count;
    }
    for (const { uid } of rec.forgets ?? []) this.forget(uid);
    for (const r of rec.receipts) if (r.seq > (this.audit.at(-1)?.seq ?? 0)) this.audit.push(r);
    if (rec.seq > this.seq) this.seq = rec.seq;
  }

  /** Loads one chain whole (a snapshot line). */
  loadChain(chain: Chain): void {
    if (this.forgotten.has(chain.uid) || this.chains.has(chain.uid) || chain.versions.length === 0) return;
    this.chains.set(chain.uid, chain);
    this.insertOrdered(chain);
    if (chain.ord >= this.nextOrd) this.nextOrd = chain.ord + 1;
    const head = chain.versions.at(-1)!;
    if (isLive(head)) this.byReplayKey.set(replayKey(head), chain.uid);
  }

  private put(v: StoredVersion): void {
    if (this.forgotten.has(v.uid)) return;
    let chain = this.chains.get(v.uid);
    if (!chain) {
      chain = { uid: v.uid, ord: v.ord, versions: [], replays: 0 };
      this.chains.set(v.uid, chain);
      this.insertOrdered(chain);
      if (v.ord >= this.nextOrd) this.nextOrd = v.ord + 1;
    }
    const prev = chain.versions.at(-1);
    if (prev && v.version <= prev.version) return; // replayed twice (a snapshot and the log overlap)
    if (prev && isLive(prev) && this.byReplayKey.get(replayKey(prev)) === v.uid) this.byReplayKey.delete(replayKey(prev));
    chain.versions.push(v);
    if (isLive(v)) this.byReplayKey.set(replayKey(v), v.uid);
  }

  private forget(uid: string): void {
    const chain = this.chains.get(uid);
    this.forgotten.add(uid);
    if (!chain) return;
    const head = chain.versions.at(-1)!;
    if (this.byReplayKey.get(replayKey(head)) === uid) this.byReplayKey.delete(replayKey(head));
    chain.forgotten = true;
    chain.versions = [];
    this.chains.delete(uid);
  }

  private insertOrdered(chain: Chain): void {
    const ord = chain.ord;
    const last = this.order.at(-1);
    if (!last || last.ord < ord) {
      this.order.push(chain);
      return;
    }
    // Only out-of-order loads get here (never a live write): a binary search keeps the order.
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]!.ord < ord) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, chain);
  }

  /** The live trace an ADD of this memory replays, if any. */
  replayOf(v: Parameters<typeof replayKey>[0]): Chain | undefined {
    const uid = this.byReplayKey.get(replayKey(v));
    return uid === undefined ? undefined : this.chains.get(uid);
  }

  /** Chains newest first, starting below `beforeOrd` (a cursor). */
  *newestFirst(beforeOrd = Number.POSITIVE_INFINITY): Generator<Chain> {
    this.sweep();
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]!.ord < beforeOrd) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0; i--) {
      const chain = this.order[i]!;
      if (!chain.forgotten) yield chain;
    }
  }

  /** Chains in creation order (snapshots). */
  *oldestFirst(): Generator<Chain> {
    for (const chain of this.order) if (!chain.forgotten) yield chain;
  }

  /** Drops forgotten chains from the order once they are a good share of it. */
  private sweep(): void {
    const dead = this.order.length - this.chains.size;
    if (dead > 1000 && dead > this.order.length / 4 && this.sweptAt !== this.order.length) {
      this.order = this.order.filter((c) => !c.forgotten);
      this.sweptAt = this.order.length;
    }
  }
}

/** The version of `chain` current at `atMs` (null: the trace did not exist yet). */
export function versionAt(chain: Chain, atMs: number | undefined): StoredVersion | null {
  if (atMs === undefined) return chain.versions.at(-1) ?? null;
  for (let i = chain.versions.length - 1; i >= 0; i--) {
    const v = chain.versions[i]!;
    if (Date.parse(v.updated_at) <= atMs) return v;
  }
  return null;
}
